package loadgen

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// WBResult is what one whiteboard run measured. Server figures come from
// two /metrics scrapes around the window (RSS: the end of the window and
// the idle server before the meeting); the rest from the generator's
// participants. Messages sent in the window are followed until they
// arrived everywhere or the drain time ran out.
type WBResult struct {
	Participants  int     `json:"participants"`
	Drawers       int     `json:"drawers"`
	Stroke        int     `json:"strokeMessages"`
	Points        int     `json:"pointsPerMessage"`
	TargetRate    float64 `json:"targetRate"`
	WindowSeconds float64 `json:"windowSeconds"`

	// Sent in the window: messages per second (wb.drawing and wb.draw
	// together), and each kind's count.
	SentRate float64 `json:"sentRate"`
	Drawings int64   `json:"sentDrawings"`
	Draws    int64   `json:"sentDraws"`
	// Deliveries: each wb.drawing to everyone but its drawer, each
	// wb.added (the commit) to everyone.
	Expected          int64   `json:"expectedDeliveries"`
	Received          int64   `json:"receivedDeliveries"`
	DeliveredPerSec   float64 `json:"deliveredPerSecond"`
	Lost              int64   `json:"lost"`
	LossPercent       float64 `json:"lossPercent"`
	WorstLossPercent  float64 `json:"worstParticipantLossPercent"`
	Unknown           int64   `json:"unknownMessages,omitempty"`
	Drained           bool    `json:"drained"`
	LatencyP50Millis  float64 `json:"latencyP50Millis"`
	LatencyP99Millis  float64 `json:"latencyP99Millis"`
	LatencyMaxMillis  float64 `json:"latencyMaxMillis"`
	RateLimited       int64   `json:"rateLimited"`
	OtherErrors       int64   `json:"otherErrors"`
	ErrorCodes        string  `json:"errorCodes,omitempty"`
	Clears            int64   `json:"clears"`
	Failed            int     `json:"failedParticipants"`
	SkippedSends      int64   `json:"skippedSends,omitempty"`
	Sustained         bool    `json:"sustained"`
	ServerCPUPercent  float64 `json:"serverCpuPercent"` // of one core
	ServerCPUPerDeliv float64 `json:"serverCpuPerDeliveryMicros"`
	IdleRSSMB         float64 `json:"serverIdleRssMB"`
	RSSMB             float64 `json:"serverRssMB"`

	GeneratorCPUPercent float64 `json:"generatorCpuPercent"`
	MachineCPUPercent   float64 `json:"machineCpuPercent"`
	SoftirqCPUPercent   float64 `json:"softirqCpuPercent"`
	OtherCPUPercent     float64 `json:"otherCpuPercent"`
}

func (g *wbGen) result(idle, before, after *sample, genCPU time.Duration) *WBResult {
	dt := after.at.Sub(before.at).Seconds()
	r := &WBResult{
		Participants: len(g.clients), Drawers: len(g.drawers), Stroke: g.o.Stroke, Points: g.o.Points,
		TargetRate: g.o.Rate, WindowSeconds: dt,
	}
	for _, d := range g.drawers {
		r.Drawings += d.drawings.Load()
		r.Draws += d.draws.Load()
		r.SkippedSends += d.behind.Load()
	}
	r.SentRate = float64(r.Drawings+r.Draws) / dt
	r.Expected = g.expected(nil)
	r.Received = g.receivedTotal()
	r.DeliveredPerSec = float64(r.Received) / dt
	r.Lost = max(r.Expected-r.Received, 0)
	if r.Expected > 0 {
		r.LossPercent = float64(r.Lost) * 100 / float64(r.Expected)
	}
	for _, c := range g.clients {
		if want := g.expected(c); want > 0 {
			lost := max(want-int64(c.received.Load()), 0)
			r.WorstLossPercent = math.Max(r.WorstLossPercent, float64(lost)*100/float64(want))
		}
		if c.err() != nil {
			r.Failed++
		}
	}
	r.Unknown = g.unknown.Load()
	r.LatencyP50Millis = ms(g.latency.quantile(0.50))
	r.LatencyP99Millis = ms(g.latency.quantile(0.99))
	r.LatencyMaxMillis = ms(time.Duration(g.maxLat.Load()))
	r.RateLimited = g.refused.Load()
	r.OtherErrors = g.errs.Load()
	r.ErrorCodes = g.codeSummary()
	r.Clears = g.clears.Load()

	cpu := after.sum(mCPU) - before.sum(mCPU)
	r.ServerCPUPercent = cpu / dt * 100
	if r.Received > 0 {
		r.ServerCPUPerDeliv = cpu / float64(r.Received) * 1e6
	}
	r.IdleRSSMB = idle.sum(mRSS) / 1e6
	r.RSSMB = after.sum(mRSS) / 1e6
	r.GeneratorCPUPercent = genCPU.Seconds() / dt * 100
	// Sustained: everything arrived, nothing refused, no participant
	// dropped, and the drawers kept (within 5 %) to the target.
	r.Sustained = r.Lost == 0 && r.RateLimited == 0 && r.OtherErrors == 0 && r.Failed == 0 &&
		r.Unknown == 0 && r.SentRate >= 0.95*r.TargetRate
	return r
}

// WBMarkdownHeader is the header of the table WBResult.MarkdownRow rows
// belong to.
func WBMarkdownHeader() string {
	return "| participants | drawers | target msg/s | sent msg/s | delivered msg/s | loss % (worst) | latency p50 / p99 / max ms | refused | server CPU % | server µs/delivery | RSS MB (idle) | generator CPU % | other CPU % | sustained |\n" +
		"|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"
}

// MarkdownRow is the result as one row of the table in docs/performance.md.
func (r *WBResult) MarkdownRow() string {
	sustained := "yes"
	if !r.Sustained {
		sustained = "no"
	}
	parts := fmt.Sprint(r.Participants)
	if r.Failed > 0 {
		parts += fmt.Sprintf(" (%d dropped)", r.Failed)
	}
	return fmt.Sprintf("| %s | %d | %.0f | %.1f | %.0f | %.3f (%.2f) | %.1f / %.1f / %.0f | %d | %.0f | %.2f | %.0f (%.0f) | %.0f | %.0f | %s |",
		parts, r.Drawers, r.TargetRate, r.SentRate, r.DeliveredPerSec, r.LossPercent, r.WorstLossPercent,
		r.LatencyP50Millis, r.LatencyP99Millis, r.LatencyMaxMillis, r.RateLimited+r.OtherErrors,
		r.ServerCPUPercent, r.ServerCPUPerDeliv, r.RSSMB, r.IdleRSSMB, r.GeneratorCPUPercent, r.OtherCPUPercent, sustained)
}

// JSON is the result as indented JSON.
func (r *WBResult) JSON() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}
