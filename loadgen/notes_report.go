package loadgen

import (
	"encoding/json"
	"fmt"
	"time"
)

// NotesResult is what one notes run measured. Server figures come from
// two /metrics scrapes around the window (RSS: the end of the window and
// the idle server before the meeting); the rest from the editors.
// Operations sent in the window are followed until they arrived at every
// other editor or the drain time ran out.
type NotesResult struct {
	Editors       int     `json:"editors"`
	TargetRate    float64 `json:"targetRate"`
	WindowSeconds float64 `json:"windowSeconds"`

	// Operations sent (and so revisions made) in the window, per second.
	Sent     int64   `json:"sentOps"`
	SentRate float64 `json:"sentOpsPerSecond"`
	// Deliveries: each operation to every other editor.
	Expected         int64   `json:"expectedDeliveries"`
	Received         int64   `json:"receivedDeliveries"`
	DeliveredPerSec  float64 `json:"deliveredPerSecond"`
	Lost             int64   `json:"lost"`
	Unknown          int64   `json:"unknownOps,omitempty"`
	Gaps             int64   `json:"revisionGaps"`
	Drained          bool    `json:"drained"`
	Converged        bool    `json:"converged"`
	FinalRev         int     `json:"finalRev"`
	FinalLength      int     `json:"finalLength"`
	OpP50Millis      float64 `json:"opLatencyP50Millis"` // sent → another's screen
	OpP99Millis      float64 `json:"opLatencyP99Millis"`
	TypedP50Millis   float64 `json:"typedLatencyP50Millis"` // first keystroke in it → another's screen
	TypedP99Millis   float64 `json:"typedLatencyP99Millis"`
	AckP50Millis     float64 `json:"ackP50Millis"` // sent → its ack
	AckP99Millis     float64 `json:"ackP99Millis"`
	RateLimited      int64   `json:"rateLimited"`
	Conflicts        int64   `json:"conflicts"`
	OtherErrors      int64   `json:"otherErrors"`
	ErrorCodes       string  `json:"errorCodes,omitempty"`
	Failed           int     `json:"failedEditors"`
	SkippedTicks     int64   `json:"skippedTicks,omitempty"`
	Sustained        bool    `json:"sustained"`
	ServerCPUPercent float64 `json:"serverCpuPercent"` // of one core
	ServerCPUPerOp   float64 `json:"serverCpuPerOpMicros"`
	IdleRSSMB        float64 `json:"serverIdleRssMB"`
	RSSMB            float64 `json:"serverRssMB"`

	GeneratorCPUPercent float64 `json:"generatorCpuPercent"`
	MachineCPUPercent   float64 `json:"machineCpuPercent"`
	SoftirqCPUPercent   float64 `json:"softirqCpuPercent"`
	OtherCPUPercent     float64 `json:"otherCpuPercent"`
}

func (g *notesGen) result(idle, before, after *sample, genCPU time.Duration) *NotesResult {
	dt := after.at.Sub(before.at).Seconds()
	r := &NotesResult{Editors: len(g.editors), TargetRate: g.o.Rate, WindowSeconds: dt}
	for _, e := range g.editors {
		r.Sent += e.measuredOps.Load()
		r.SkippedTicks += e.behind.Load()
		if e.err() != nil {
			r.Failed++
		}
	}
	r.SentRate = float64(r.Sent) / dt
	r.Expected, r.Received = g.deliveries()
	r.DeliveredPerSec = float64(r.Received) / dt
	r.Lost = max(r.Expected-r.Received, 0)
	r.Unknown = g.unknown.Load()
	r.Gaps = g.gaps.Load()
	r.OpP50Millis, r.OpP99Millis = ms(g.opLat.quantile(0.50)), ms(g.opLat.quantile(0.99))
	r.TypedP50Millis, r.TypedP99Millis = ms(g.typedLat.quantile(0.50)), ms(g.typedLat.quantile(0.99))
	r.AckP50Millis, r.AckP99Millis = ms(g.ackLat.quantile(0.50)), ms(g.ackLat.quantile(0.99))
	r.RateLimited, r.Conflicts, r.OtherErrors = g.refused.Load(), g.conflicts.Load(), g.errs.Load()
	r.ErrorCodes = g.codeSummary()

	cpu := after.sum(mCPU) - before.sum(mCPU)
	r.ServerCPUPercent = cpu / dt * 100
	if r.Sent > 0 {
		r.ServerCPUPerOp = cpu / float64(r.Sent) * 1e6
	}
	r.IdleRSSMB = idle.sum(mRSS) / 1e6
	r.RSSMB = after.sum(mRSS) / 1e6
	r.GeneratorCPUPercent = genCPU.Seconds() / dt * 100
	// Sustained: everything arrived in order, nothing refused, no editor
	// dropped, and the editors kept (within 5 %) to the target. Whether
	// the replicas converged is set by the caller.
	r.Sustained = r.Lost == 0 && r.RateLimited == 0 && r.Conflicts == 0 && r.OtherErrors == 0 &&
		r.Failed == 0 && r.Unknown == 0 && r.Gaps == 0 && r.SentRate >= 0.95*r.TargetRate
	return r
}

// NotesMarkdownHeader is the header of the table NotesResult.MarkdownRow
// rows belong to.
func NotesMarkdownHeader() string {
	return "| editors | target ops/s | sent ops/s | delivered/s | lost | op → others p50 / p99 ms | keystroke → others p50 / p99 ms | ack p50 / p99 ms | refused | converged | server CPU % | server µs/op | RSS MB (idle) | generator CPU % | other CPU % | sustained |\n" +
		"|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|:---:|"
}

// MarkdownRow is the result as one row of the table in docs/performance.md.
func (r *NotesResult) MarkdownRow() string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	eds := fmt.Sprint(r.Editors)
	if r.Failed > 0 {
		eds += fmt.Sprintf(" (%d dropped)", r.Failed)
	}
	return fmt.Sprintf("| %s | %.0f | %.1f | %.0f | %d | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %d | %s | %.0f | %.0f | %.0f (%.0f) | %.0f | %.0f | %s |",
		eds, r.TargetRate, r.SentRate, r.DeliveredPerSec, r.Lost, r.OpP50Millis, r.OpP99Millis,
		r.TypedP50Millis, r.TypedP99Millis, r.AckP50Millis, r.AckP99Millis,
		r.RateLimited+r.Conflicts+r.OtherErrors, yes(r.Converged), r.ServerCPUPercent, r.ServerCPUPerOp,
		r.RSSMB, r.IdleRSSMB, r.GeneratorCPUPercent, r.OtherCPUPercent, yes(r.Sustained && r.Converged))
}

// JSON is the result as indented JSON.
func (r *NotesResult) JSON() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}
