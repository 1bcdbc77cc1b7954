package loadgen

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Result is what one run measured. Server figures come from the
// difference of two /metrics scrapes around the measurement window (RSS:
// the end of the window against the idle server before the meeting);
// client figures from the generator's own subscribers in the same window.
type Result struct {
	AudioPublishers int     `json:"audioPublishers"`
	VideoPublishers int     `json:"videoPublishers"`
	Subscribers     int     `json:"subscribers"`
	VideoLayer      string  `json:"videoLayer,omitempty"`
	WindowSeconds   float64 `json:"windowSeconds"`
	Failed          int     `json:"failedClients"` // failed to join or later
	JoinFailed      int     `json:"joinFailed"`    // subscribers that never got in

	// Server, from /metrics.
	PacketsPerSecond float64 `json:"forwardedPacketsPerSecond"`
	MbitPerSecond    float64 `json:"forwardedMbitPerSecond"`
	DroppedPerSecond float64 `json:"droppedPacketsPerSecond"`
	// Keyframe requests (PLI) the server sent to publishers in the window,
	// and how many of them the generator's publishers received.
	KeyframeRequestsSent     int64   `json:"keyframeRequestsSent"`
	KeyframeRequestsReceived int64   `json:"keyframeRequestsReceived"`
	CPUPerPacketMicros       float64 `json:"serverCpuPerPacketMicros"`
	ServerCPUPercent         float64 `json:"serverCpuPercent"` // of one core
	IdleRSSMB                float64 `json:"serverIdleRssMB"`
	RSSMB                    float64 `json:"serverRssMB"`
	RSSPerParticipKB         float64 `json:"serverRssPerParticipantKB"`
	ServerParticipants       float64 `json:"serverParticipants"`
	FanoutP50Millis          float64 `json:"fanoutP50Millis"`
	FanoutP99Millis          float64 `json:"fanoutP99Millis"`
	// FanoutAbove is set when a fan-out quantile lies above the server
	// histogram's last finite bound; the figure is then that bound.
	FanoutAbove bool `json:"fanoutAboveLastBucket,omitempty"`

	// Generator, from its subscribers.
	Received uint64 `json:"receivedPackets"`
	// VideoByLayer counts received video packets per simulcast layer
	// (q, h, f): the layers the server chose for the subscribers.
	VideoByLayer     [3]uint64 `json:"videoPacketsByLayer"`
	VideoLostByLayer [3]int64  `json:"videoLostByLayer"`
	Lost             int64     `json:"lostPackets"`
	LossPercent      float64   `json:"lossPercent"`
	WorstLossPercent float64   `json:"worstSubscriberLossPercent"`
	E2EP50Millis     float64   `json:"endToEndP50Millis"`
	E2EP99Millis     float64   `json:"endToEndP99Millis"`
	// Silence: per subscriber, the longest time without any packet in the
	// window; p99 and max over subscribers. Long silences are stalled
	// connections rather than scattered loss.
	SilenceP99Millis  float64 `json:"silenceP99Millis"`
	SilenceMaxMillis  float64 `json:"silenceMaxMillis"`
	JoinP50Millis     float64 `json:"joinP50Millis"`
	JoinP99Millis     float64 `json:"joinP99Millis"`
	GeneratorCPUPerct float64 `json:"generatorCpuPercent"` // of one core

	// SubscribeOffers counts the subscribe offers all clients answered
	// during the whole run (joins included): about one per subscriber
	// when the server renegotiates only what changed.
	SubscribeOffers int64 `json:"subscribeOffers"`

	// Machine, from /proc: all cores' busy time (100 per core), the part
	// of it in softirq (on loopback mostly delivering our own packets,
	// charged to no process), what remains beside the server and the
	// generator (other processes), and UDP datagrams the kernel dropped for
	// full socket buffers, on either side of loopback.
	MachineCPUPercent float64 `json:"machineCpuPercent"`
	SoftirqCPUPercent float64 `json:"softirqCpuPercent"`
	OtherCPUPercent   float64 `json:"otherCpuPercent"`
	UDPRcvbufErrors   uint64  `json:"udpRcvbufErrors"`
}

func (g *gen) result(idle, before, after *sample, genCPU time.Duration, pubs, subs []*client) *Result {
	dt := after.at.Sub(before.at).Seconds()
	delta := func(name string) float64 { return after.sum(name) - before.sum(name) }
	r := &Result{
		AudioPublishers: g.o.AudioPublishers, VideoPublishers: g.o.VideoPublishers,
		Subscribers: g.o.Subscribers, VideoLayer: g.o.VideoLayer, WindowSeconds: dt,
	}
	pk := delta(mPackets)
	r.PacketsPerSecond = pk / dt
	r.MbitPerSecond = delta(mBytes) * 8 / dt / 1e6
	r.DroppedPerSecond = delta(mDropped) / dt
	r.KeyframeRequestsSent = int64(delta(mKeyframes))
	cpu := delta(mCPU)
	if pk > 0 {
		r.CPUPerPacketMicros = cpu / pk * 1e6
	}
	r.ServerCPUPercent = cpu / dt * 100
	r.IdleRSSMB = idle.sum(mRSS) / 1e6
	r.RSSMB = after.sum(mRSS) / 1e6
	r.ServerParticipants = after.sum(mParticipa)
	if n := len(pubs) + len(subs); n > 0 {
		r.RSSPerParticipKB = (after.sum(mRSS) - idle.sum(mRSS)) / float64(n) / 1e3
	}
	b0, b1 := before.buckets(mLatency), after.buckets(mLatency)
	fanout := func(q float64) float64 {
		v := bucketQuantile(q, b0, b1)
		if math.IsInf(v, 1) {
			r.FanoutAbove = true
			if len(b1) > 1 {
				v = b1[len(b1)-2].le
			}
		}
		return finite(v * 1e3)
	}
	r.FanoutP50Millis = fanout(0.50)
	r.FanoutP99Millis = fanout(0.99)

	var joins durations
	var silences durations
	for _, c := range subs {
		silences = append(silences, time.Duration(c.maxSilence.Load()))
		if rec, lost := c.recv.received.Load(), c.recv.lost.Load(); lost > 0 && float64(lost) > 0.01*float64(rec) {
			g.log.Warn("subscriber lost more than 1 %", "client", c.idx, "received", rec, "lost", lost,
				"longest_silence", time.Duration(c.maxSilence.Load()).Round(time.Millisecond))
		}
		rec, lost := c.recv.received.Load(), c.recv.lost.Load()
		for i := range r.VideoByLayer {
			r.VideoByLayer[i] += c.recv.video[i].Load()
			r.VideoLostByLayer[i] += c.recv.videoGap[i].Load()
		}
		r.Received += rec
		r.Lost += lost
		if rec+uint64(max(lost, 0)) > 0 {
			r.WorstLossPercent = math.Max(r.WorstLossPercent, float64(max(lost, 0))*100/float64(rec+uint64(max(lost, 0))))
		}
		if f := c.firstMedia.Load(); f != 0 {
			joins = append(joins, time.Unix(0, f).Sub(c.joinStart))
		}
	}
	if tot := float64(r.Received) + float64(max(r.Lost, 0)); tot > 0 {
		r.LossPercent = float64(max(r.Lost, 0)) * 100 / tot
	}
	r.E2EP50Millis = ms(g.latency.quantile(0.50))
	r.E2EP99Millis = ms(g.latency.quantile(0.99))
	r.SilenceP99Millis = ms(silences.quantile(0.99))
	r.SilenceMaxMillis = ms(silences.quantile(1))
	r.JoinP50Millis = ms(joins.quantile(0.50))
	r.JoinP99Millis = ms(joins.quantile(0.99))
	r.GeneratorCPUPerct = genCPU.Seconds() / dt * 100
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarkdownHeader is the header of the table MarkdownRow rows belong to.
func MarkdownHeader() string {
	return "| publishers (audio+video) | subscribers | layer | forwarded pkt/s | Mbit/s | server CPU µs/pkt | server CPU % | RSS/participant | loss % (worst sub) | fan-out p50/p99 ms | end-to-end p50/p99 ms | join p50/p99 ms | generator CPU % | other CPU % | UDP drops |\n" +
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}

// MarkdownRow is the result as one row of the table in docs/performance.md.
func (r *Result) MarkdownRow() string {
	layer := r.VideoLayer
	if layer == "" {
		layer = "top"
	}
	if r.VideoPublishers == 0 {
		layer = "–"
	}
	subs := fmt.Sprint(r.Subscribers)
	if r.Failed > 0 {
		subs += fmt.Sprintf(" (%d failed)", r.Failed)
	}
	cells := []string{
		fmt.Sprintf("%d+%d", r.AudioPublishers, r.VideoPublishers),
		subs,
		layer,
		fmt.Sprintf("%.0f", r.PacketsPerSecond),
		fmt.Sprintf("%.1f", r.MbitPerSecond),
		fmt.Sprintf("%.2f", r.CPUPerPacketMicros),
		fmt.Sprintf("%.0f", r.ServerCPUPercent),
		fmt.Sprintf("%.0f KB", r.RSSPerParticipKB),
		fmt.Sprintf("%.3f (%.2f)", r.LossPercent, r.WorstLossPercent),
		fmt.Sprintf("%.2f / %s%.2f", r.FanoutP50Millis, map[bool]string{true: "≥"}[r.FanoutAbove], r.FanoutP99Millis),
		fmt.Sprintf("%.2f / %.2f", r.E2EP50Millis, r.E2EP99Millis),
		fmt.Sprintf("%.0f / %.0f", r.JoinP50Millis, r.JoinP99Millis),
		fmt.Sprintf("%.0f", r.GeneratorCPUPerct),
		fmt.Sprintf("%.0f", r.OtherCPUPercent),
		fmt.Sprint(r.UDPRcvbufErrors),
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// JSON is the result as indented JSON.
func (r *Result) JSON() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}
