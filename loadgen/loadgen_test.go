package loadgen

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestStampRoundTrip(t *testing.T) {
	for _, st := range []stamp{
		{sent: 1, seq: 0, stream: 0, layer: 0},
		{sent: time.Now().UnixNano(), seq: math.MaxUint32, stream: 1999, layer: 2},
	} {
		b := make([]byte, 40)
		st.put(b)
		got, ok := readStamp(b)
		if !ok || got != st {
			t.Errorf("stamp %+v came back as %+v (ok %v)", st, got, ok)
		}
	}
	for _, bad := range [][]byte{nil, make([]byte, stampLen-1), make([]byte, 30)} {
		if _, ok := readStamp(bad); ok {
			t.Errorf("readStamp accepted %d bytes without the magic", len(bad))
		}
	}
}

// TestRTPPayload: the raw-RTP reader finds the same payload as pion/rtp
// for packets with CSRCs, extensions and padding.
func TestRTPPayload(t *testing.T) {
	payload := []byte("payload-bytes-here")
	for _, tc := range []struct {
		name string
		hdr  rtp.Header
		pad  byte
	}{
		{name: "plain", hdr: rtp.Header{Version: 2, SequenceNumber: 7}},
		{name: "csrc", hdr: rtp.Header{Version: 2, CSRC: []uint32{1, 2, 3}}},
		{name: "one-byte extension", hdr: func() rtp.Header {
			h := rtp.Header{Version: 2}
			_ = h.SetExtension(1, []byte("m1"))
			_ = h.SetExtension(3, []byte{0x80 | 30})
			return h
		}()},
		{name: "padding", hdr: rtp.Header{Version: 2, Padding: true}, pad: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := rtp.Packet{Header: tc.hdr, Payload: payload, PaddingSize: tc.pad}
			b, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			got, ok := rtpPayload(b)
			if !ok || string(got) != string(payload) {
				t.Fatalf("payload %q ok=%v, want %q", got, ok, payload)
			}
		})
	}
	for _, bad := range [][]byte{nil, {0x80}, {0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 9}} {
		if _, ok := rtpPayload(bad); ok {
			t.Errorf("rtpPayload accepted %x", bad)
		}
	}
}

func FuzzRTPPayload(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3})
	f.Add([]byte{0xb1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0, 9, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := rtpPayload(b)
		if ok && len(p) > len(b) {
			t.Fatal("payload longer than the packet")
		}
		_, _ = readStamp(p)
	})
}

// TestVP8Packets: frames have the size asked for, a descriptor with S on
// the first packet only, a keyframe header the SFU can read sizes from,
// and consecutive stamp sequence numbers.
func TestVP8Packets(t *testing.T) {
	for _, tc := range []struct {
		layer videoLayer
		key   bool
	}{
		{videoLayers[0], false}, {videoLayers[0], true}, {videoLayers[2], false}, {videoLayers[2], true},
	} {
		size := frameSize(tc.layer, tc.key)
		ps := vp8Packets(size, tc.key, tc.layer, stamp{seq: 100, stream: 3, layer: 2})
		total := 0
		for i, p := range ps {
			if len(p) > maxVideoChunk {
				t.Errorf("%s key=%v: packet %d is %d bytes", tc.layer.rid, tc.key, i, len(p))
			}
			if (p[0]&0x10 != 0) != (i == 0) {
				t.Errorf("%s: S bit wrong on packet %d", tc.layer.rid, i)
			}
			st, ok := readStamp(p)
			if !ok || st.seq != 100+uint32(i) || st.stream != 3 {
				t.Errorf("%s: packet %d stamp %+v", tc.layer.rid, i, st)
			}
			total += len(p) - 1 - stampLen
		}
		if total < size {
			t.Errorf("%s key=%v: %d frame bytes, want %d", tc.layer.rid, tc.key, total, size)
		}
		f := ps[0][1:]
		isKey := f[0]&1 == 0
		if isKey != tc.key {
			t.Errorf("%s: keyframe flag %v, want %v", tc.layer.rid, isKey, tc.key)
		}
		if tc.key {
			w := int(f[6]) | int(f[7]&0x3f)<<8
			h := int(f[8]) | int(f[9]&0x3f)<<8
			if f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a || w != tc.layer.width || h != tc.layer.height {
				t.Errorf("%s: keyframe header %x gives %dx%d", tc.layer.rid, f[:10], w, h)
			}
		}
	}
}

// TestLossCounting: gaps count as loss, a late packet undoes its gap, a
// duplicate counts nothing, and a layer switch starts afresh.
func TestLossCounting(t *testing.T) {
	type pkt struct {
		seq   uint32
		layer uint8
	}
	for _, tc := range []struct {
		name       string
		in         []pkt
		recv, lost int64
	}{
		{"in order", []pkt{{1, 0}, {2, 0}, {3, 0}}, 3, 0},
		{"gap", []pkt{{1, 0}, {2, 0}, {5, 0}}, 3, 2},
		{"late packet fills the gap", []pkt{{1, 0}, {3, 0}, {2, 0}}, 3, 0},
		{"duplicate", []pkt{{1, 0}, {2, 0}, {2, 0}}, 2, 0},
		{"layer switch", []pkt{{1, 0}, {2, 0}, {900, 1}, {901, 1}}, 4, 0},
		{"wraparound", []pkt{{math.MaxUint32, 0}, {0, 0}, {2, 0}}, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s streamState
			var c recvCounters
			for _, p := range tc.in {
				s.observe(stamp{seq: p.seq, layer: p.layer}, &c, true)
			}
			if int64(c.received.Load()) != tc.recv || c.lost.Load() != tc.lost {
				t.Errorf("received %d lost %d, want %d and %d", c.received.Load(), c.lost.Load(), tc.recv, tc.lost)
			}
		})
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 {
		t.Error("empty histogram has a median")
	}
	for i := 1; i <= 100; i++ {
		h.observe(time.Duration(i) * 100 * time.Microsecond) // 0.1 .. 10 ms
	}
	h.observe(5 * time.Second)
	for _, tc := range []struct {
		q    float64
		want time.Duration
		tol  time.Duration
	}{{0.5, 5 * time.Millisecond, 200 * time.Microsecond}, {0.99, 10 * time.Millisecond, time.Millisecond}, {1, 2 * time.Second, 0}} {
		if got := h.quantile(tc.q); got < tc.want-tc.tol || got > tc.want+tc.tol {
			t.Errorf("q%.2f = %v, want %v ± %v", tc.q, got, tc.want, tc.tol)
		}
	}
}

const metricsText = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
process_resident_memory_bytes 1.048576e+08
aula_sfu_packets_forwarded_total 1e+06
aula_sfu_forward_latency_seconds_bucket{le="0.0001"} 10
aula_sfu_forward_latency_seconds_bucket{le="0.001"} 90
aula_sfu_forward_latency_seconds_bucket{le="+Inf"} 100
aula_sfu_forward_latency_seconds_count 100
go_info{version="go1.26 \"x\"\\y"} 1
aula_participants 7 1700000000000
`

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(metricsText))
	if err != nil {
		t.Fatal(err)
	}
	s := &sample{series: m}
	for name, want := range map[string]float64{mCPU: 12.5, mRSS: 104857600, mPackets: 1e6, mParticipa: 7} {
		if got := s.sum(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := m["go_info"][0].labels["version"]; got != `go1.26 "x"\y` {
		t.Errorf("escaped label read as %q", got)
	}
	b := s.buckets(mLatency)
	if len(b) != 3 || !math.IsInf(b[2].le, 1) || b[1].count != 90 {
		t.Errorf("buckets %+v", b)
	}
	for _, bad := range []string{
		"metric_without_value\n",
		"m{le=\"1\" 3\n",
		"m{le=1} 3\n",
		"m 12 34 56\n",
		"m notanumber\n",
		"1bad 3\n",
	} {
		if _, err := parseMetrics(strings.NewReader(bad)); !errors.Is(err, ErrMetrics) {
			t.Errorf("%q: error %v, want ErrMetrics", bad, err)
		}
	}
}

func FuzzParseMetrics(f *testing.F) {
	f.Add(metricsText)
	f.Add(`m{a="\"",b="c"} 1`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMetrics(strings.NewReader(s))
		if err == nil {
			sm := &sample{series: m}
			_ = bucketQuantile(0.99, nil, sm.buckets("m"))
		}
	})
}

// TestBucketQuantile: the quantile of the difference of two scrapes,
// interpolated inside a bucket.
func TestBucketQuantile(t *testing.T) {
	before := []bucket{{0.001, 100}, {0.002, 100}, {math.Inf(1), 100}}
	after := []bucket{{0.001, 150}, {0.002, 200}, {math.Inf(1), 200}}
	// 50 new in (0, 1ms], 50 in (1ms, 2ms]: the median is 1 ms, p99 ~2 ms.
	if got := bucketQuantile(0.5, before, after); math.Abs(got-0.001) > 1e-9 {
		t.Errorf("p50 = %v", got)
	}
	if got := bucketQuantile(0.99, before, after); math.Abs(got-0.00198) > 1e-6 {
		t.Errorf("p99 = %v", got)
	}
	above := []bucket{{0.001, 150}, {0.002, 160}, {math.Inf(1), 200}}
	if got := bucketQuantile(0.99, before, above); !math.IsInf(got, 1) {
		t.Errorf("p99 above the last bound = %v, want +Inf", got)
	}
	if got := bucketQuantile(0.5, after, after); !math.IsNaN(got) {
		t.Errorf("no new observations gave %v, want NaN", got)
	}
}

func TestOptionsRefused(t *testing.T) {
	ok := Options{URL: "http://127.0.0.1:1", Secret: "s", AudioPublishers: 1, Duration: time.Second}
	for _, tc := range []struct {
		name string
		mod  func(*Options)
	}{
		{"no url", func(o *Options) { o.URL = "" }},
		{"no secret", func(o *Options) { o.Secret = "" }},
		{"no publisher", func(o *Options) { o.AudioPublishers = 0 }},
		{"negative", func(o *Options) { o.Subscribers = -1 }},
		{"no duration", func(o *Options) { o.Duration = 0 }},
		{"bad layer", func(o *Options) { o.VideoLayer = "xl" }},
	} {
		o := ok
		tc.mod(&o)
		if _, err := Run(t.Context(), o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: error %v, want ErrOptions", tc.name, err)
		}
	}
}

func TestUDPCounter(t *testing.T) {
	snmp := "Ip: Forwarding DefaultTTL\nIp: 1 64\n" +
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n" +
		"Udp: 11337038 2987 233621 11576923 233620 0\n" +
		"UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n" +
		"UdpLite: 0 0 0 0 0 0\n"
	if got := udpCounter(snmp, "RcvbufErrors"); got != 233620 {
		t.Errorf("RcvbufErrors = %d, want 233620", got)
	}
	if got := udpCounter(snmp, "Nonexistent"); got != 0 {
		t.Errorf("unknown counter = %d", got)
	}
	if got := udpCounter("garbage", "RcvbufErrors"); got != 0 {
		t.Errorf("garbage = %d", got)
	}
}
