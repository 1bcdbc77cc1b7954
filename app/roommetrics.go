package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"aula/room"
)

// storeCollector reports the room persisters' counters at scrape time: how
// the store keeps up with the meetings running here.
type storeCollector struct {
	mgr                                             *room.Manager
	writes, errors, coalesced, pending, unavailable *prometheus.Desc
}

func registerRoomMetrics(reg *prometheus.Registry, mgr *room.Manager) {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	reg.MustRegister(&storeCollector{mgr: mgr,
		writes:      d("aula_store_writes_total", "Meeting state writes to the store."),
		errors:      d("aula_store_write_errors_total", "Failed store writes (each is retried with backoff)."),
		coalesced:   d("aula_store_writes_coalesced_total", "Writes saved because a newer one of the same thing replaced them while waiting."),
		pending:     d("aula_store_writes_pending", "Writes waiting for the store."),
		unavailable: d("aula_store_unavailable_meetings", "Meetings refusing changes because their store writes are stuck."),
	})
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.writes, c.errors, c.coalesced, c.pending, c.unavailable} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.mgr.PersistStats()
	ch <- prometheus.MustNewConstMetric(c.writes, prometheus.CounterValue, float64(s.Writes))
	ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(s.Errors))
	ch <- prometheus.MustNewConstMetric(c.coalesced, prometheus.CounterValue, float64(s.Coalesced))
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending))
	ch <- prometheus.MustNewConstMetric(c.unavailable, prometheus.GaugeValue, float64(s.Unavailable))
}
