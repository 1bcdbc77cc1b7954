package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aula/dialin/siptest"
)

// Every dial-in setting that is wrong is refused at start-up with its
// name, and nothing starts.
func TestDialinSettingsAreNamed(t *testing.T) {
	sip := map[string]string{"AULA_SIP_ADDR": "127.0.0.1:5060"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range sip {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{with("AULA_SIP_TRUNKS", "192.0.2.0/24, trunk.example"), "AULA_SIP_TRUNKS"},
		{with("AULA_SIP_TRUNKS", "192.0.2.0/33"), "AULA_SIP_TRUNKS"},
		{with("AULA_SIP_USER", "aula"), "AULA_SIP_USER"},
		{with("AULA_SIP_PASSWORD", "long enough secret"), "AULA_SIP_USER"},
		{with("AULA_SIP_USER", "aula", "AULA_SIP_PASSWORD", "short"), "AULA_SIP_PASSWORD"},
		{with("AULA_SIP_LANGUAGE", "fr"), "AULA_SIP_LANGUAGE"},
		{with("AULA_SIP_LANGUAGE", ""), ""}, // empty env keeps the default: valid
		{with("AULA_SIP_PUBLIC_IP", "sip.example"), "AULA_SIP_PUBLIC_IP"},
		{with("AULA_SIP_PUBLIC_IP", "0.0.0.0"), "AULA_SIP_PUBLIC_IP"},
		{map[string]string{"AULA_SIP_ADDR": "0.0.0.0:5060"}, "AULA_SIP_PUBLIC_IP"},
		{map[string]string{"AULA_SIP_ADDR": ":5060"}, "AULA_SIP_PUBLIC_IP"},
		{with("AULA_SIP_RTP_PORTS", "20000"), "AULA_SIP_RTP_PORTS"},
		{with("AULA_SIP_RTP_PORTS", "20999-20000"), "AULA_SIP_RTP_PORTS"},
		{with("AULA_SIP_RTP_PORTS", "80-90"), "AULA_SIP_RTP_PORTS"},
		{with("AULA_SIP_RTP_PORTS", "60000-70000"), "AULA_SIP_RTP_PORTS"},
		{with("AULA_SIP_TLS_ADDR", "127.0.0.1:5061"), "AULA_SIP_TLS_CERT"},
		{with("AULA_SIP_TLS_ADDR", "127.0.0.1:5061", "AULA_SIP_TLS_CERT", "c.pem"), "AULA_SIP_TLS_KEY"},
		{with("AULA_SIP_TLS_CERT", "c.pem", "AULA_SIP_TLS_KEY", "k.pem"), "AULA_SIP_TLS_ADDR"},
	} {
		_, err := Load(nil, env(tc.env))
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v, want valid", tc.env, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.want)
		}
	}
}

func TestDialinSettingsAreRead(t *testing.T) {
	cfg, err := Load(nil, env(map[string]string{
		"AULA_SIP_ADDR": "0.0.0.0:5060", "AULA_SIP_PUBLIC_IP": "203.0.113.7",
		"AULA_SIP_TRUNKS": "192.0.2.0/24, 198.51.100.9 ,2001:db8::/32", "AULA_SIP_USER": "aula",
		"AULA_SIP_PASSWORD": "a long digest secret", "AULA_SIP_LANGUAGE": "de", "AULA_SIP_RTP_PORTS": "20000-20999",
	}))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := cfg.dialinConfig()
	if err != nil {
		t.Fatal(err)
	}
	wantTrunks := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.9/32"), netip.MustParsePrefix("2001:db8::/32")}
	if len(dc.Trunks) != len(wantTrunks) {
		t.Fatalf("trunks = %v, want %v", dc.Trunks, wantTrunks)
	}
	for i := range wantTrunks {
		if dc.Trunks[i] != wantTrunks[i] {
			t.Errorf("trunk %d = %v, want %v", i, dc.Trunks[i], wantTrunks[i])
		}
	}
	if dc.PublicIP != netip.MustParseAddr("203.0.113.7") || dc.Language != "de" || dc.Username != "aula" ||
		dc.Password != "a long digest secret" || dc.RTPPortMin != 20000 || dc.RTPPortMax != 20999 {
		t.Errorf("gateway config = %+v", dc)
	}
}

// FuzzPortRange: any text is either refused or gives a usable range.
func FuzzPortRange(f *testing.F) {
	for _, s := range []string{"20000-20999", "", "1-2", "65535-65535", " 3000 - 4000 ", "-", "20000-", "a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := parsePortRange(s)
		if err != nil {
			return
		}
		if !(lo == 0 && hi == 0) && (lo < 1024 || hi > 65535 || hi <= lo) {
			t.Fatalf("%q gave %d-%d", s, lo, hi)
		}
	})
}

// FuzzTrunks: any text is either refused or gives valid, masked networks.
func FuzzTrunks(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24", "192.0.2.1", "10.0.0.0/8,::1", " , ", "2001:db8::/32", "x/8", "1.2.3.4/40"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := parseTrunks(s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("%q gave %v", s, p)
			}
		}
	})
}

// startWithSIP starts the app with dial-in on loopback.
func startWithSIP(t *testing.T, mut func(*Config)) *App {
	t.Helper()
	cfg := Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	cfg.SIPAddr = "127.0.0.1:0"
	cfg.SIPRTPPorts = "44000-44999"
	if mut != nil {
		mut(&cfg)
	}
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
	return a
}

func metricsText(t *testing.T, a *App) string {
	t.Helper()
	resp, err := http.Get(a.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Without AULA_SIP_ADDR there is no gateway and no dial-in metric.
func TestNoDialinWithoutAddress(t *testing.T) {
	a := startWithSIP(t, func(c *Config) { c.SIPAddr = "" })
	if a.SIPAddr().IsValid() {
		t.Errorf("gateway on %v without AULA_SIP_ADDR", a.SIPAddr())
	}
	if m := metricsText(t, a); strings.Contains(m, "aula_dialin_") {
		t.Error("dial-in metrics without dial-in")
	}
}

// A call from a source outside the trunks is refused and counted; the
// dial-in gauge and counters are on /metrics without any label.
func TestDialinTrunkAllowlistAndMetrics(t *testing.T) {
	a := startWithSIP(t, func(c *Config) { c.SIPTrunks = "192.0.2.0/24" })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := siptest.Dial(ctx, a.SIPAddr(), siptest.Options{From: "+4930123456789"})
	if siptest.StatusOf(err) != 403 {
		t.Fatalf("call from loopback, trunk 192.0.2.0/24 only: %v, want 403", err)
	}
	m := metricsText(t, a)
	for _, want := range []string{"aula_dialin_calls 0", "aula_dialin_calls_refused_total 1",
		"aula_dialin_calls_accepted_total 0", "aula_dialin_pin_failures_total 0", "aula_dialin_pin_checks_total 0",
		"aula_dialin_pin_limited_total 0", "aula_dialin_pin_queued 0", "aula_dialin_sip_connections 0",
		"aula_dialin_sip_connections_refused_total 0", "aula_dialin_sip_connections_timed_out_total 0"} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(m, "aula_dialin_calls{") || strings.Contains(m, "4930123456789") {
		t.Error("dial-in metrics carry labels or the number")
	}
}

// Digest credentials let a caller in from outside the trunks; the wrong
// ones do not.
func TestDialinDigest(t *testing.T) {
	a := startWithSIP(t, func(c *Config) {
		c.SIPTrunks = "192.0.2.0/24"
		c.SIPUser, c.SIPPassword = "trunk", "a long digest secret"
	})
	for _, tc := range []struct {
		pass string
		ok   bool
	}{{"a long digest secret", true}, {"wrong secret", false}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		p, err := siptest.Dial(ctx, a.SIPAddr(), siptest.Options{From: "+4930123456789", Username: "trunk", Password: tc.pass})
		cancel()
		if tc.ok {
			if err != nil {
				t.Errorf("right credentials: %v", err)
				continue
			}
			p.Close()
		} else if err == nil {
			p.Close()
			t.Error("wrong credentials were let in")
		}
	}
}

// SIP over TLS starts from AULA_SIP_TLS_*: a call over TLS is answered.
func TestDialinTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, cert, key)
	a := startWithSIP(t, func(c *Config) {
		c.SIPTLSAddr, c.SIPTLSCert, c.SIPTLSKey = "127.0.0.1:0", cert, key
	})
	tlsAddr := a.SIPTLSAddr()
	if tlsAddr == nil {
		t.Fatal("no TLS listener")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := siptest.Dial(ctx, netip.MustParseAddrPort(tlsAddr.String()), siptest.Options{From: "+4930123456789", Transport: "tls"})
	if err != nil {
		t.Fatalf("call over TLS: %v", err)
	}
	p.Close()
}

// A missing certificate file is named at start.
func TestDialinTLSBadCertificate(t *testing.T) {
	cfg := Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	cfg.SIPAddr = "127.0.0.1:0"
	cfg.SIPTLSAddr, cfg.SIPTLSCert, cfg.SIPTLSKey = "127.0.0.1:0", "/nonexistent/cert.pem", "/nonexistent/key.pem"
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start()
	if err == nil {
		a.Close(context.Background())
		t.Fatal("started with a missing certificate")
	}
	if !strings.Contains(err.Error(), "AULA_SIP_TLS_CERT") {
		t.Errorf("error %v does not name AULA_SIP_TLS_CERT", err)
	}
	a.Close(context.Background())
}

func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}
