package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Names of the server metrics the report is made of.
const (
	mCPU       = "process_cpu_seconds_total"
	mRSS       = "process_resident_memory_bytes"
	mPackets   = "aula_sfu_packets_forwarded_total"
	mBytes     = "aula_sfu_bytes_forwarded_total"
	mDropped   = "aula_sfu_packets_dropped_total"
	mLatency   = "aula_sfu_forward_latency_seconds"
	mParticipa = "aula_participants"
	mKeyframes = "aula_sfu_keyframe_requests_total"
)

// sample is one scrape of /metrics: every series by metric name, with
// its labels as written.
type sample struct {
	at     time.Time
	series map[string][]series
}

type series struct {
	labels map[string]string
	value  float64
}

// has reports whether the metric appeared at all.
func (s *sample) has(name string) bool { return len(s.series[name]) > 0 }

// sum adds every series of a metric (e.g. participants over rooms).
func (s *sample) sum(name string) float64 {
	var v float64
	for _, x := range s.series[name] {
		v += x.value
	}
	return v
}

// buckets returns a histogram's cumulative bucket counts by upper bound
// (summed over label sets), sorted by bound; +Inf last.
func (s *sample) buckets(name string) []bucket {
	by := map[float64]float64{}
	for _, x := range s.series[name+"_bucket"] {
		le, err := strconv.ParseFloat(x.labels["le"], 64)
		if err != nil {
			continue
		}
		by[le] += x.value
	}
	out := make([]bucket, 0, len(by))
	for le, n := range by {
		out = append(out, bucket{le, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].le < out[j].le })
	return out
}

type bucket struct{ le, count float64 }

// bucketQuantile estimates quantile q from the difference of two
// cumulative histograms, interpolating linearly inside the bucket as
// Prometheus' histogram_quantile does. It returns seconds, NaN when no
// observation fell between the scrapes, or +Inf when the quantile lies
// above the last finite bound.
func bucketQuantile(q float64, before, after []bucket) float64 {
	prev := map[float64]float64{}
	for _, b := range before {
		prev[b.le] = b.count
	}
	d := make([]bucket, len(after))
	for i, b := range after {
		d[i] = bucket{b.le, b.count - prev[b.le]}
	}
	if len(d) == 0 || d[len(d)-1].count <= 0 {
		return math.NaN()
	}
	rank := q * d[len(d)-1].count
	lo, loCount := 0.0, 0.0
	for _, b := range d {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return b.le
			}
			if b.count == loCount {
				return b.le
			}
			return lo + (b.le-lo)*(rank-loCount)/(b.count-loCount)
		}
		lo, loCount = b.le, b.count
	}
	return lo
}

// parseMetrics reads the Prometheus text format (version 0.0.4): comment
// lines, then `name{label="value",…} value [timestamp]`. Lines it cannot
// read are an error: a report from a half-understood scrape would lie.
func parseMetrics(r io.Reader) (map[string][]series, error) {
	out := map[string][]series{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, rest, err := splitSeries(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrMetrics, n, err)
		}
		fields := strings.Fields(rest)
		if len(fields) < 1 || len(fields) > 2 {
			return nil, fmt.Errorf("%w: line %d: want a value after %s", ErrMetrics, n, name)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: value %q", ErrMetrics, n, fields[0])
		}
		out[name] = append(out[name], series{labels: labels, value: v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMetrics, err)
	}
	return out, nil
}

// splitSeries splits `name{a="b",c="d"} rest` into its parts, honouring
// the escapes \\, \" and \n inside label values.
func splitSeries(line string) (name string, labels map[string]string, rest string, err error) {
	i := strings.IndexAny(line, "{ \t")
	if i < 0 {
		return "", nil, "", fmt.Errorf("no value")
	}
	name = line[:i]
	if !validName(name) {
		return "", nil, "", fmt.Errorf("bad metric name %q", name)
	}
	if line[i] != '{' {
		return name, nil, line[i:], nil
	}
	labels = map[string]string{}
	j := i + 1
	for {
		for j < len(line) && (line[j] == ' ' || line[j] == ',') {
			j++
		}
		if j < len(line) && line[j] == '}' {
			return name, labels, line[j+1:], nil
		}
		eq := strings.IndexByte(line[j:], '=')
		if eq < 0 {
			return "", nil, "", fmt.Errorf("label without value")
		}
		key := strings.TrimSpace(line[j : j+eq])
		if !validName(key) {
			return "", nil, "", fmt.Errorf("bad label name %q", key)
		}
		j += eq + 1
		if j >= len(line) || line[j] != '"' {
			return "", nil, "", fmt.Errorf("label %s: value not quoted", key)
		}
		j++
		var b strings.Builder
		for {
			if j >= len(line) {
				return "", nil, "", fmt.Errorf("label %s: unterminated value", key)
			}
			c := line[j]
			if c == '"' {
				j++
				break
			}
			if c == '\\' && j+1 < len(line) {
				j++
				switch line[j] {
				case 'n':
					c = '\n'
				default:
					c = line[j]
				}
			}
			b.WriteByte(c)
			j++
		}
		labels[key] = b.String()
	}
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// scrape fetches and parses the server's /metrics.
func scrape(ctx context.Context, hc *http.Client, base string) (*sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMetrics, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMetrics, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: /metrics answered HTTP %d", ErrMetrics, resp.StatusCode)
	}
	s, err := parseMetrics(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	return &sample{at: time.Now(), series: s}, nil
}
