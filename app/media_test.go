package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMediaSettings(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string // "" means valid
	}{
		{env: map[string]string{"AULA_RTC_UDP_PORT": "40000", "AULA_RTC_TCP_PORT": "-1", "AULA_PUBLIC_IP": "203.0.113.7", "AULA_TURN": "on"}},
		{env: map[string]string{"AULA_TURN": "3479"}},
		{env: map[string]string{"AULA_RTC_UDP_PORT": "70000"}, want: "AULA_RTC_UDP_PORT"},
		{env: map[string]string{"AULA_RTC_UDP_PORT": "udp"}, want: "AULA_RTC_UDP_PORT"},
		{env: map[string]string{"AULA_RTC_TCP_PORT": "-2"}, want: "AULA_RTC_TCP_PORT"},
		{env: map[string]string{"AULA_PUBLIC_IP": "example.org"}, want: "AULA_PUBLIC_IP"},
		{env: map[string]string{"AULA_PUBLIC_IP": "0.0.0.0"}, want: "AULA_PUBLIC_IP"},
		{env: map[string]string{"AULA_TURN": "maybe"}, want: "AULA_TURN"},
		{env: map[string]string{"AULA_TURN": "99999"}, want: "AULA_TURN"},
	} {
		_, err := Load(nil, env(tc.env))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.want)
		}
	}
}

// TestMediaListensWhereBrowsersAre: on loopback for a local server; on
// every interface behind a reverse proxy (loopback HTTP, public URL).
func TestMediaListensWhereBrowsersAre(t *testing.T) {
	lo := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}
	for _, tc := range []struct {
		http       net.Addr
		publicHost string
		wantIP     string
		wantLo     bool
	}{
		{lo, "127.0.0.1", "127.0.0.1", true},
		{lo, "localhost", "127.0.0.1", true},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 8080}, "::1", "::1", true},
		{lo, "meet.example.org", "", false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "meet.example.org", "", false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "127.0.0.1", "", false},
	} {
		ip, loop := mediaListen(tc.http, tc.publicHost)
		if ip != tc.wantIP || loop != tc.wantLo {
			t.Errorf("HTTP on %s, public host %q: media on %q loopback %v, want %q %v", tc.http, tc.publicHost, ip, loop, tc.wantIP, tc.wantLo)
		}
	}
}

// TestMediaMetrics: /metrics carries the SFU's counters and latency
// histogram and the participant gauge the load generator reads, besides
// the process figures.
func TestMediaMetrics(t *testing.T) {
	cfg := Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	cfg.TURN = "0" // off, written as a port
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Close(ctx)
	})
	for _, addr := range a.SFU().UDPAddrs() {
		if !strings.HasPrefix(addr.String(), "127.0.0.1:") {
			t.Errorf("media listens on %s although the server listens on loopback", addr)
		}
	}
	resp, err := http.Get(a.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{
		"aula_sfu_packets_forwarded_total 0", "aula_sfu_bytes_forwarded_total 0", "aula_sfu_packets_dropped_total 0",
		`aula_sfu_forward_latency_seconds_bucket{le="5e-05"} 0`, `aula_sfu_forward_latency_seconds_bucket{le="0.05"} 0`,
		"aula_sfu_forward_latency_seconds_count 0", "aula_participants 0",
		"process_cpu_seconds_total", "process_resident_memory_bytes",
	} {
		if !strings.Contains(string(b), name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}
}
