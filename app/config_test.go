package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "aula.json")
	if err := os.WriteFile(file, []byte(`{"http_addr":"127.0.0.1:9001","dial_number":"+49 30 1","store_ttl":"20m"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load([]string{"-config", file, "-http-addr", "127.0.0.1:9003"},
		env(map[string]string{"AULA_HTTP_ADDR": "127.0.0.1:9002", "AULA_DIAL_NUMBER": "+49 30 2", "AULA_SECRET": "0123456789abcdef"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:9003" {
		t.Errorf("flag should win: HTTPAddr = %q", cfg.HTTPAddr)
	}
	if cfg.DialNumber != "+49 30 2" {
		t.Errorf("env should win over file: DialNumber = %q", cfg.DialNumber)
	}
	if cfg.StoreTTL != 20*time.Minute {
		t.Errorf("file should win over default: StoreTTL = %v", cfg.StoreTTL)
	}
	if cfg.Secret != "0123456789abcdef" || cfg.ReconnectGrace != time.Minute {
		t.Errorf("unexpected %+v", cfg)
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:8080" || cfg.RedisURL != "" || !cfg.Demo {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestInvalidSettingsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env: map[string]string{"AULA_HTTP_ADDR": "nonsense"}, want: "AULA_HTTP_ADDR"},
		{env: map[string]string{"AULA_PUBLIC_URL": "ftp://x"}, want: "AULA_PUBLIC_URL"},
		{env: map[string]string{"AULA_PUBLIC_URL": "https://x/?a=1"}, want: "AULA_PUBLIC_URL"},
		{env: map[string]string{"AULA_SECRET": "short"}, want: "AULA_SECRET"},
		{env: map[string]string{"AULA_REDIS_URL": "http://localhost"}, want: "AULA_REDIS_URL"},
		{env: map[string]string{"AULA_SIP_ADDR": "5060"}, want: "AULA_SIP_ADDR"},
		{env: map[string]string{"AULA_DIAL_NUMBER": "call me"}, want: "AULA_DIAL_NUMBER"},
		{env: map[string]string{"AULA_LOG_LEVEL": "loud"}, want: "AULA_LOG_LEVEL"},
		{env: map[string]string{"AULA_STORE_TTL": "ten"}, want: "AULA_STORE_TTL"},
		{env: map[string]string{"AULA_DEMO": "maybe"}, want: "AULA_DEMO"},
		{args: []string{"-reconnect-grace", "-1s"}, want: "AULA_RECONNECT_GRACE"},
		{env: map[string]string{"AULA_DATA_DIR": ""}, args: []string{"-data-dir="}, want: "AULA_DATA_DIR"},
		{env: map[string]string{"AULA_HTTP_IDLE_TIMEOUT": "0s"}, want: "AULA_HTTP_IDLE_TIMEOUT"},
		{env: map[string]string{"AULA_HTTP_READ_TIMEOUT": "-1m"}, want: "AULA_HTTP_READ_TIMEOUT"},
		{env: map[string]string{"AULA_HTTP_WRITE_TIMEOUT": "soon"}, want: "AULA_HTTP_WRITE_TIMEOUT"},
		{env: map[string]string{"AULA_HTTP_MAX_CONNS_PER_IP": "-1"}, want: "AULA_HTTP_MAX_CONNS_PER_IP"},
		{env: map[string]string{"AULA_HTTP_MAX_CONNS": "many"}, want: "AULA_HTTP_MAX_CONNS"},
		{env: map[string]string{"AULA_FETCH_ALLOW_NETWORKS": "lan"}, want: "AULA_FETCH_ALLOW_NETWORKS"},
	} {
		_, err := Load(tc.args, env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: error %v, want one naming %s", tc.env, tc.args, err, tc.want)
		}
	}
}

func TestConfigFileRejectsUnknownSetting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "aula.json")
	if err := os.WriteFile(file, []byte(`{"htp_addr":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load([]string{"-config", file}, env(nil)); err == nil || !strings.Contains(err.Error(), "htp_addr") {
		t.Fatalf("error %v, want unknown setting htp_addr", err)
	}
}

func TestFetchAllowNetworksSetting(t *testing.T) {
	cfg, err := Load([]string{"-fetch-allow-networks", "10.0.0.0/8, 192.168.1.7"}, env(nil))
	if err != nil || cfg.FetchAllowNetworks != "10.0.0.0/8, 192.168.1.7" {
		t.Fatalf("%q %v", cfg.FetchAllowNetworks, err)
	}
	for _, bad := range []string{"intranet", "10.0.0.0/40"} {
		if _, err := Load(nil, env(map[string]string{"AULA_FETCH_ALLOW_NETWORKS": bad})); err == nil ||
			!strings.Contains(err.Error(), "AULA_FETCH_ALLOW_NETWORKS") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}

// httpGet sends one keep-alive request on c and reads the reply.
func httpGet(c net.Conn, path string) error {
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: aula\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// TestHTTPServerLimits: the web server closes idle keep-alive connections
// after HTTPIdleTimeout and closes connections over HTTPMaxConns at once.
func TestHTTPServerLimits(t *testing.T) {
	cfg := Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	cfg.HTTPIdleTimeout = 200 * time.Millisecond
	cfg.HTTPMaxConns = 2
	ctx := context.Background()
	a, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = a.Close(cctx)
	})
	addr := a.ln.Addr().String()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// Idle: after one request the server closes the connection within
	// the idle timeout (the read deadline is only the test's bound).
	c := dial()
	if err := httpGet(c, "/healthz"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("idle keep-alive connection kept open: %v", err)
	}
	// Total cap: two connections are served, the third is closed unread.
	for range 2 {
		if err := httpGet(dial(), "/healthz"); err != nil {
			t.Fatal(err)
		}
	}
	over := dial()
	if err := httpGet(over, "/healthz"); err == nil {
		t.Fatal("connection over the cap was served")
	}
}
