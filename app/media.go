package app

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"aula/sfu"
	"aula/signaling"
)

// startMedia starts the SFU and the signaling layer's media extension.
// When browsers reach the server on loopback (the web server listens on
// loopback and the public URL, if any, names loopback: go run ./cmd/aula,
// tests) the SFU listens on loopback only and offers loopback candidates,
// so a browser on the same machine connects and nothing is reachable from
// elsewhere. Behind a reverse proxy (loopback HTTP, public https URL) the
// media port must face the network: it listens on every interface address
// (one socket each, not the wildcard), or on AULA_RTC_BIND's.
func (a *App) startMedia(httpAddr net.Addr) error {
	cfg := sfu.Config{
		UDPPort:    a.cfg.RTCUDPPort,
		ICETCPPort: a.cfg.RTCTCPPort,
		PublicIP:   a.cfg.PublicIP,
		Logger:     a.log,
	}
	cfg.BindIPs, _ = a.cfg.rtcBind() // checked by Validate
	if len(cfg.BindIPs) == 0 {
		cfg.ListenIP, cfg.IncludeLoopback = mediaListen(httpAddr, a.url.Hostname())
	}
	// TURN is named by AULA_TURN_HOST when browsers reach it by another
	// name than the web (a proxy on another host); turns: needs a name
	// its certificate covers.
	turnHost := a.url.Hostname()
	if a.cfg.TURNHost != "" {
		turnHost = a.cfg.TURNHost
	}
	if on, port, _ := a.cfg.turnPort(); on {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		// A fresh key per start: credentials are only ever checked by the
		// node that issued them, and die with it.
		cfg.TURN = sfu.TURNConfig{Enabled: true, Port: port, Realm: turnHost, Secret: hex.EncodeToString(b[:])}
		cfg.TURN.RelayPortMin, cfg.TURN.RelayPortMax, _ = a.cfg.relayPorts()
		ln, tlsPort, err := a.turnTLSListener()
		if err != nil {
			return err
		}
		cfg.TURN.TLSListener, cfg.TURN.TLSPort = ln, tlsPort
	}
	s, err := sfu.New(cfg)
	if err != nil {
		if cfg.TURN.TLSListener != nil {
			_ = cfg.TURN.TLSListener.Close()
		}
		return fmt.Errorf("media (AULA_RTC_UDP_PORT, AULA_RTC_TCP_PORT, AULA_RTC_BIND, AULA_PUBLIC_IP, AULA_TURN*): %w", err)
	}
	a.sfu = s
	a.media = signaling.NewMedia(s, turnHost, a.log.With("component", "media"))
	// The room lifecycle alone opens and closes a meeting's SFU room, so
	// nothing racing a meeting's end can bring its media back.
	a.mgr.OnStart(func(key string) {
		if _, err := s.OpenRoom(key); err != nil {
			a.log.Error("open media room", "meeting", key, "err", err)
		}
	})
	a.mgr.OnEnd(a.media.CloseRoom)
	attrs := []any{"udp", s.UDPAddrs()}
	if t := s.TCPAddr(); t != nil {
		attrs = append(attrs, "ice_tcp", t.String())
	}
	if t := s.TURNAddrs(); t != nil {
		attrs = append(attrs, "turn", fmt.Sprint(t), "turn_host", turnHost)
	}
	a.log.Info("media", attrs...)
	return nil
}

// mediaListen decides where media listens (see startMedia): one loopback
// address with loopback candidates, or every interface ("").
func mediaListen(httpAddr net.Addr, publicHost string) (listenIP string, loopback bool) {
	if ta, ok := httpAddr.(*net.TCPAddr); ok && ta.IP.IsLoopback() && isLoopbackHost(publicHost) {
		return ta.IP.String(), true
	}
	return "", false
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// SFU is the node's media server (for tests and the load generator's
// in-process runs).
func (a *App) SFU() *sfu.SFU { return a.sfu }

// mediaCollector turns the SFU's cumulative counters into Prometheus
// metrics at scrape time: nothing is counted twice and the hot path never
// touches Prometheus.
type mediaCollector struct {
	sfu   *sfu.SFU
	media *signaling.Media

	forwarded, bytes, dropped, nacks, retrans, keyframes, latency, participants *prometheus.Desc
}

func registerMediaMetrics(reg *prometheus.Registry, s *sfu.SFU, m *signaling.Media) {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	reg.MustRegister(&mediaCollector{sfu: s, media: m,
		forwarded:    d("aula_sfu_packets_forwarded_total", "RTP packets handed to subscribers."),
		bytes:        d("aula_sfu_bytes_forwarded_total", "Bytes of RTP payload forwarded to subscribers."),
		dropped:      d("aula_sfu_packets_dropped_total", "Packets dropped for a slow subscriber (full queue)."),
		nacks:        d("aula_sfu_nacks_total", "Sequence numbers subscribers asked for again (NACK)."),
		retrans:      d("aula_sfu_retransmissions_total", "NACKed packets answered from the packet cache."),
		keyframes:    d("aula_sfu_keyframe_requests_total", "Keyframe requests (PLI) sent to publishers."),
		latency:      d("aula_sfu_forward_latency_seconds", "Time from reading a packet off the publisher's connection to handing it to a subscriber's."),
		participants: d("aula_participants", "Participants with a media connection on this node."),
	})
}

func (c *mediaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.forwarded, c.bytes, c.dropped, c.nacks, c.retrans, c.keyframes, c.latency, c.participants} {
		ch <- d
	}
}

func (c *mediaCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.sfu.Stats()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(c.forwarded, st.PacketsOut)
	counter(c.bytes, st.BytesOut)
	counter(c.dropped, st.Dropped)
	counter(c.nacks, st.NACKed)
	counter(c.retrans, st.Retransmitted)
	counter(c.keyframes, st.KeyframeRequests)
	buckets := make(map[float64]uint64, len(sfu.LatencyBuckets))
	var count uint64
	for i, n := range st.Latency {
		count += n
		if i < len(sfu.LatencyBuckets) {
			buckets[sfu.LatencyBuckets[i].Seconds()] = count
		}
	}
	ch <- prometheus.MustNewConstHistogram(c.latency, count, st.LatencySum.Seconds(), buckets)
	ch <- prometheus.MustNewConstMetric(c.participants, prometheus.GaugeValue, float64(c.media.Peers()))
}
