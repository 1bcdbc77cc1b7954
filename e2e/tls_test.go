package e2e

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"aula/app"
	"aula/internal/testenv"
	"aula/room"
)

// Aula on the Internet: built-in HTTPS with a certificate (here a
// self-signed one made for the test), and behind a reverse proxy.

const metricsToken = "e2e-metrics-token-0123456789"

// startOpsServer starts Aula with cfg changed by mod and returns it with
// its log.
func startOpsServer(t *testing.T, mod func(*app.Config)) (*app.App, *testenv.LogBuffer) {
	t.Helper()
	logs := &testenv.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := app.Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Secret = secret
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	mod(&cfg)
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return a, logs
}

// startBrowserTrusting starts headless Chromium that accepts the test's
// certificate (by its public key, nothing else) with the flags of
// startBrowser.
func startBrowserTrusting(t *testing.T, chrome, spki string) context.Context {
	t.Helper()
	return startBrowser(t, chrome, chromedp.Flag("ignore-certificate-errors-spki-list", spki))
}

func get(t *testing.T, c *http.Client, u string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestHTTPSInTheBrowser: Aula serves HTTPS itself with a certificate; a
// browser that trusts it joins through the API, the client talks over
// WSS, camera and microphone media flow both ways (DTLS-SRTP), responses
// carry HSTS, and /metrics refuses a request without the token.
func TestHTTPSInTheBrowser(t *testing.T) {
	chrome := testenv.Chromium(t)
	cert := testenv.SelfSignedCert(t, time.Time{}, time.Time{}, "127.0.0.1", "localhost")
	a, _ := startOpsServer(t, func(c *app.Config) {
		c.TLSCert, c.TLSKey = cert.CertFile, cert.KeyFile
		c.MetricsToken = metricsToken
		c.MetricsAllow = "none"
	})
	base := a.URL()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("public URL %s is not https", base)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}}

	// /metrics: refused without the token, served with it.
	if resp, body := get(t, client, base+"/metrics"); resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "aula_") {
		t.Errorf("metrics without the token: %d %.80q", resp.StatusCode, body)
	}
	if resp, body := get(t, client, base+"/metrics", "Authorization", "Bearer "+metricsToken); resp.StatusCode != http.StatusOK || !strings.Contains(body, "aula_meetings") {
		t.Errorf("metrics with the token: %d", resp.StatusCode)
	}
	resp, _ := get(t, client, base+"/healthz")
	if !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS over HTTPS: %v", resp.Header)
	}

	meetingID := "tls-" + room.NewID()
	if _, body := get(t, client, apiURL(base, "create", url.Values{"meetingID": {meetingID}, "name": {"TLS lesson"}})); !strings.Contains(body, "SUCCESS") {
		t.Fatalf("create over HTTPS: %s", body)
	}

	browser := startBrowserTrusting(t, chrome, cert.SPKI)
	mod := newPage(t, browser, "moderator")
	viewer := newPage(t, browser, "viewer")
	for _, p := range []*tab{mod, viewer} {
		p.run("install the media probe", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: wsProbe + mediaProbe})
			return err
		}))
	}
	mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
	mod.enter()
	viewer.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	viewer.enter()
	for _, p := range []*tab{mod, viewer} {
		p.waitFor("the page over https and its WebSocket over wss", `location.protocol === 'https:' && window.__ws.length > 0 && window.__ws.every(u => u.startsWith('wss://'))`)
		p.click("switch the microphone on", "#mic-toggle")
		p.waitFor("the microphone toggle pressed", pressed("#mic-toggle", true))
		p.click("switch the camera on", "#cam-toggle")
		p.waitFor("the camera toggle pressed", pressed("#cam-toggle", true))
	}
	for _, p := range []*tab{mod, viewer} {
		p.waitFor("the other's video tile", visible(".tile.camera:not(.self) video"))
		p.receiving("audio and video from the other over DTLS-SRTP")
		p.waitFor("DTLS done on the media connection", `(async () => { for (const pc of window.__pcs) { if (pc.connectionState !== 'connected') continue; const st = await pc.getStats(); for (const s of st.values()) if (s.type === 'transport' && s.dtlsState === 'connected' && s.srtpCipher) return true; } return false; })()`)
	}
	for _, p := range []*tab{mod, viewer} {
		p.noErrors()
	}
}

// wsProbe records the URLs of the page's WebSockets.
const wsProbe = `(() => {
  window.__ws = [];
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(u, ...a) { super(u, ...a); window.__ws.push(String(u)); }
  };
})();`

// TestAccessLogBehindProxy: behind a reverse proxy that Aula trusts, the
// access log keeps the client's truncated address, not the proxy's, and
// entries a client forged in X-Forwarded-For do not count; a proxy that
// is not trusted cannot put an address into the log.
func TestAccessLogBehindProxy(t *testing.T) {
	const client = "198.51.100.23" // as the proxy saw the client
	proxyTo := func(target string) *httptest.Server {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			// What nginx's $proxy_add_x_forwarded_for does: the client's
			// header, if any, then the address the proxy was connected from
			// (here a fixed public one: the test client is on loopback).
			xff := client
			if prior := pr.In.Header.Get("X-Forwarded-For"); prior != "" {
				xff = prior + ", " + client
			}
			pr.Out.Header.Set("X-Forwarded-For", xff)
		}}
		s := httptest.NewServer(rp)
		t.Cleanup(s.Close)
		return s
	}

	a, logs := startOpsServer(t, func(c *app.Config) { c.TrustedProxies = "127.0.0.1" })
	proxy := proxyTo(a.URL())
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	meetingID := "proxy-" + room.NewID()
	if _, body := get(t, c, apiURL(proxy.URL, "create", url.Values{"meetingID": {meetingID}, "name": {"Behind a proxy"}})); !strings.Contains(body, "SUCCESS") {
		t.Fatalf("create through the proxy: %s", body)
	}
	get(t, c, proxy.URL+"/healthz", "X-Forwarded-For", "6.6.6.6") // a forged entry
	var lines []string
	testenv.Eventually(t, 5*time.Second, "access log lines of both requests", func() bool {
		lines = nil
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "msg=http ") && (strings.Contains(l, "path=/bigbluebutton/api/create") || strings.Contains(l, "path=/healthz")) {
				lines = append(lines, l)
			}
		}
		return len(lines) == 2
	})
	for _, l := range lines {
		if !strings.Contains(l, "ip=198.51.100.0/24") {
			t.Errorf("access log without the client's network: %s", l)
		}
		if strings.Contains(l, "127.0.0") || strings.Contains(l, "6.6.6") || strings.Contains(l, client) {
			t.Errorf("access log shows the proxy, a forged or a full address: %s", l)
		}
	}

	// Without AULA_TRUSTED_PROXIES the proxy is the client: its header is
	// not believed.
	b, blogs := startOpsServer(t, func(*app.Config) {})
	get(t, c, proxyTo(b.URL()).URL+"/healthz")
	testenv.Eventually(t, 5*time.Second, "the access log line", func() bool { return strings.Contains(blogs.String(), "path=/healthz") })
	if l := blogs.String(); strings.Contains(l, "198.51.100") || !strings.Contains(l, "ip=127.0.0.0/24") {
		t.Errorf("an untrusted proxy's header was believed:\n%s", l)
	}
}
