package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"aula/render"
	"aula/room"
	"aula/sfu"
)

// opsCollector reports, at scrape time, what an operator watches besides
// the counters of each layer: meetings and participants on this node,
// published tracks, how long participants wait for media, the loss the
// browsers report, the document conversion queue and whether the node is
// draining. No label names a meeting or a person: the only labels are a
// participant's kind and whether they are in the room or the lobby.
type opsCollector struct {
	a    *App
	conv *render.Renderer

	meetings, participants, rooms, tracks, connect, loss, convRunning, convWaiting, draining *prometheus.Desc
}

func registerOpsMetrics(reg *prometheus.Registry, a *App) {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	reg.MustRegister(&opsCollector{a: a, conv: a.conv,
		meetings:     d("aula_meetings", "Meetings running on this node."),
		participants: d("aula_meeting_participants", "Participants of the meetings running on this node, by kind (browser, phone) and place (room, lobby).", "kind", "place"),
		rooms:        d("aula_sfu_rooms", "Media rooms open on this node."),
		tracks:       d("aula_sfu_tracks", "Tracks published (microphones, cameras, screens) on this node."),
		connect:      d("aula_media_connect_seconds", "Time from entering a meeting's media to the first connected media connection (ICE and DTLS done): how long a participant waits for audio and video."),
		loss:         d("aula_sfu_subscriber_loss_ratio", "Fraction of packets lost towards browsers, as each receiver report says (per report)."),
		convRunning:  d("aula_conversions_running", "Document conversions drawing pages now."),
		convWaiting:  d("aula_conversions_waiting", "Document conversions waiting for a worker."),
		draining:     d("aula_draining", "1 while the node drains (no new meetings), else 0."),
	})
}

func (c *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.meetings, c.participants, c.rooms, c.tracks, c.connect, c.loss, c.convRunning, c.convWaiting, c.draining} {
		ch <- d
	}
}

// collectTimeout bounds reading participants (memory on this node; the
// store only for a meeting that moved away meanwhile).
const collectTimeout = 2 * time.Second

func (c *opsCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	keys := c.a.running.list()
	gauge(c.meetings, float64(len(keys)))
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	count := map[[2]string]int{}
	for _, k := range []room.Kind{room.Browser, room.Phone} {
		for _, place := range []string{"room", "lobby"} {
			count[[2]string{string(k), place}] = 0
		}
	}
	for _, key := range keys {
		ps, err := c.a.mgr.Participants(ctx, key)
		if err != nil {
			continue // ended meanwhile
		}
		for _, p := range ps {
			place := "room"
			if !p.InRoom {
				place = "lobby"
			}
			if p.Kind == room.Browser || p.Kind == room.Phone {
				count[[2]string{string(p.Kind), place}]++
			}
		}
	}
	for kp, n := range count {
		gauge(c.participants, float64(n), kp[0], kp[1])
	}
	if s := c.a.sfu; s != nil {
		l := s.Load()
		gauge(c.rooms, float64(l.Rooms))
		gauge(c.tracks, float64(l.Tracks))
		st := s.Stats()
		ch <- histogram(c.connect, st.Connect[:], durations(sfu.ConnectBuckets[:]), st.ConnectSum.Seconds())
		ch <- histogram(c.loss, st.Loss[:], sfu.LossBuckets[:], st.LossSum)
	}
	if c.conv != nil {
		run, wait := c.conv.Queue()
		gauge(c.convRunning, float64(run))
		gauge(c.convWaiting, float64(wait))
	}
	d := 0.0
	if c.a.Draining() {
		d = 1
	}
	gauge(c.draining, d)
}

func durations(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

// histogram turns per-bucket counts (the last one above every bound)
// into a Prometheus histogram with cumulative buckets.
func histogram(d *prometheus.Desc, counts []uint64, bounds []float64, sum float64) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var total uint64
	for i, n := range counts {
		total += n
		if i < len(bounds) {
			buckets[bounds[i]] = total
		}
	}
	return prometheus.MustNewConstHistogram(d, total, sum, buckets)
}
