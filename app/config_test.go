package app

import (
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
