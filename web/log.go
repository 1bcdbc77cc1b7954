package web

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The access log keeps what operation needs and nothing that identifies a
// person or opens a door: the client address truncated to its network
// (/24 for IPv4, /48 for IPv6), the path without its query string (API
// checksums) and with one-time join tokens cut out.

// truncateIP returns the network part of an address.
func truncateIP(addr string) string {
	ip := net.ParseIP(strings.TrimSpace(addr))
	if ip == nil {
		return "unknown"
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.Mask(net.CIDRMask(24, 32)).String() + "/24"
	}
	return ip.Mask(net.CIDRMask(48, 128)).String() + "/48"
}

// logPath drops secrets from a path: the token of /join/<token>.
func logPath(p string) string {
	if strings.HasPrefix(p, "/join/") {
		return "/join/…"
	}
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	return p
}

func (s *server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.log.Info("http",
		"ip", truncateIP(clientIP(c.Request, s.o.TrustedProxies)),
		"method", c.Request.Method,
		"path", logPath(c.Request.URL.Path),
		"status", c.Writer.Status(),
		"duration", time.Since(start).Round(time.Microsecond),
	)
}

// metrics are the web layer's Prometheus series. Labels are bounded: the
// call label is one of the known calls or "unknown".
type metrics struct {
	api     *prometheus.CounterVec
	created prometheus.Counter
	ended   prometheus.Counter
	joins   *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		api: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aula_api_requests_total",
			Help: "BigBlueButton API calls by call and returncode.",
		}, []string{"call", "returncode"}),
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aula_meetings_created_total",
			Help: "Meetings created through the API (duplicate creates not counted).",
		}),
		ended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aula_meetings_ended_total",
			Help: "Meetings ended on this node, for any reason.",
		}),
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aula_joins_total",
			Help: "Successful API joins by role.",
		}, []string{"role"}),
	}
	for _, c := range []prometheus.Collector{m.api, m.created, m.ended, m.joins} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func promHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// metricCalls bounds the call label (apiCalls cannot be used here: it
// refers to the handlers, which count).
var metricCalls = map[string]bool{
	"create": true, "join": true, "end": true, "isMeetingRunning": true, "getMeetingInfo": true,
	"getMeetings": true, "getRecordings": true, "publishRecordings": true, "deleteRecordings": true,
	"updateRecordings": true,
}

func (s *server) countAPI(call, rc string) {
	if s.metrics == nil {
		return
	}
	if !metricCalls[call] {
		call = "unknown"
	}
	s.metrics.api.WithLabelValues(call, rc).Inc()
}
