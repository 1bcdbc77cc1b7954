package sfu

import (
	"reflect"
	"strings"
	"testing"
)

func TestVP8Keyframe(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		key  bool
		w, h int
	}{
		{"keyframe with size", vp8Frame(true, 640, 360, 0), true, 640, 360},
		{"inter frame", vp8Frame(false, 0, 0, 0), false, 0, 0},
		{"continuation packet", []byte{0x00, 0x00, 0x9d, 0x01, 0x2a}, false, 0, 0},
		{"15-bit picture id", []byte{0x90, 0x80, 0x81, 0x23, 0x00, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00}, true, 320, 180},
		{"tl0picidx and tid", []byte{0x90, 0xe0, 0x05, 0x07, 0x20, 0x01}, false, 0, 0},
		{"truncated after X", []byte{0x90}, false, 0, 0},
		{"truncated after I", []byte{0x90, 0x80}, false, 0, 0},
		{"empty", nil, false, 0, 0},
		{"short keyframe", []byte{0x10, 0x00}, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, w, h := vp8Keyframe(tt.p)
			if key != tt.key || w != tt.w || h != tt.h {
				t.Fatalf("vp8Keyframe = %v %dx%d, want %v %dx%d", key, w, h, tt.key, tt.w, tt.h)
			}
		})
	}
}

func TestH264Keyframe(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		key  bool
	}{
		{"IDR slice", []byte{0x65, 0x88}, true},
		{"SPS", []byte{0x67, 0x42}, true},
		{"non-IDR slice", []byte{0x41, 0x9a}, false},
		{"STAP-A with SPS", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"STAP-A with bad size", []byte{0x78, 0x00, 0x09, 0x67}, false},
		{"STAP-A without key", []byte{0x78, 0x00, 0x02, 0x41, 0x00}, false},
		{"FU-A start of IDR", []byte{0x7c, 0x85, 0x00}, true},
		{"FU-A middle of IDR", []byte{0x7c, 0x05, 0x00}, false},
		{"FU-A truncated", []byte{0x7c}, false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h264Keyframe(tt.p); got != tt.key {
				t.Fatalf("h264Keyframe = %v, want %v", got, tt.key)
			}
		})
	}
}

func TestAudioLevel(t *testing.T) {
	if lvl, voice, ok := audioLevel([]byte{0x80 | 30}); !ok || !voice || lvl != 30 {
		t.Fatalf("audioLevel = %d %v %v", lvl, voice, ok)
	}
	if _, _, ok := audioLevel(nil); ok {
		t.Fatal("audioLevel of nothing is ok")
	}
}

func TestOrderRids(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"f", "h", "q"}, []string{"q", "h", "f"}},
		{[]string{"h", "m", "l"}, []string{"l", "m", "h"}},
		{[]string{"2", "0", "1"}, []string{"0", "1", "2"}},
		{[]string{"hi", "lo"}, []string{"hi", "lo"}}, // unknown: the client's order
	}
	for _, tt := range tests {
		if got := orderRids(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("orderRids(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

const simulcastOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=fingerprint:sha-256 00:11\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\n" +
	"a=rid:f send\r\na=rid:h send\r\na=rid:q send\r\na=simulcast:send f;h;q\r\n"

func TestParseOffer(t *testing.T) {
	rids, err := parseOffer(simulcastOffer)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"q", "h", "f"}; !reflect.DeepEqual(rids["1"], want) {
		t.Fatalf("rids = %v, want %v", rids["1"], want)
	}
	noUfrag := strings.Replace(simulcastOffer, "a=ice-ufrag:abcd\r\n", "", 1)
	if _, err := parseOffer(noUfrag); err == nil || !strings.Contains(err.Error(), "ice-ufrag") {
		t.Fatalf("offer without ice-ufrag: err = %v", err)
	}
}

func TestStreamIDOf(t *testing.T) {
	if got := streamIDOf("a b/c:d"); got != "p-a_b_c_d" {
		t.Fatalf("streamIDOf = %q", got)
	}
}

// FuzzParsers feeds network bytes to every parser the SFU runs on
// untrusted input: none may panic, and packet parsing must keep the
// payload inside the packet.
func FuzzParsers(f *testing.F) {
	f.Add(vp8Frame(true, 1280, 720, 1))
	f.Add([]byte{0x78, 0x00, 0x02, 0x67, 0x42})
	f.Add([]byte{0x90, 0x80, 0x81})
	f.Add([]byte(simulcastOffer))
	f.Add([]byte{0xb0, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2, 0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		vp8Keyframe(b)
		h264Keyframe(b)
		audioLevel(b)
		_, _ = parseOffer(string(b))
		orderRids(strings.Fields(string(b)))
		p := getPacket()
		defer p.release()
		p.n = copy(p.buf[:], b)
		if p.parse() == nil {
			if len(p.payload) > p.n || cap(p.payload) > packetMTU {
				t.Fatalf("payload of %d bytes outside a %d-byte packet", len(p.payload), p.n)
			}
			p.hdr.GetExtension(1)
		}
	})
}

func TestStripSimulcastSSRCs(t *testing.T) {
	in := "v=0\r\nm=audio 9 X 111\r\na=ssrc:1 cname:x\r\nm=video 9 X 96\r\na=ssrc-group:FID 2 3\r\na=ssrc:2 cname:x\r\na=rid:q send\r\na=simulcast:send q\r\n"
	want := "v=0\r\nm=audio 9 X 111\r\na=ssrc:1 cname:x\r\nm=video 9 X 96\r\na=rid:q send\r\na=simulcast:send q\r\n"
	if got := stripSimulcastSSRCs(in); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}
