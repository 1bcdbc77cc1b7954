package web

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestClientBehindTrustedProxies(t *testing.T) {
	trusted, err := ParseNetworks("10.0.0.0/8,2001:db8:ffff::/48")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct client, header ignored", "198.51.100.7:4000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"one trusted proxy", "10.0.0.1:5555", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client forged entries left of the real one", "10.0.0.1:5555", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted proxies", "10.0.0.1:5555", []string{"203.0.113.9, 10.2.3.4"}, "203.0.113.9"},
		{"header on two lines", "10.0.0.1:5555", []string{"203.0.113.9", "10.2.3.4"}, "203.0.113.9"},
		{"IPv6 client through an IPv6 proxy", "[2001:db8:ffff::1]:443", []string{"2001:db8:1:2::7"}, "2001:db8:1:2::7"},
		{"address with port", "10.0.0.1:5555", []string{"203.0.113.9:61000"}, "203.0.113.9"},
		{"garbage stops at the last trusted hop", "10.0.0.1:5555", []string{"203.0.113.9, nonsense, 10.2.3.4"}, "10.2.3.4"},
		{"trusted proxy without header", "10.0.0.1:5555", nil, "10.0.0.1"},
		{"only trusted hops", "10.0.0.1:5555", []string{"10.9.9.9"}, "10.9.9.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, trusted); got != tc.want {
				t.Errorf("client = %s, want %s", got, tc.want)
			}
		})
	}
	// Without trusted proxies the header never counts.
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := clientIP(r, nil); got != "10.0.0.1" {
		t.Errorf("no trusted proxies: client = %s", got)
	}
}

// TestAccessLogBehindProxy: the access log shows the client's network
// behind a trusted proxy, and the proxy's address when it is not trusted.
func TestAccessLogBehindProxy(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TrustedProxies = loopback })
	readBody(t, e.get(e.srv.URL+"/healthz", "X-Forwarded-For", "198.51.100.77"))
	if !strings.Contains(e.log.String(), "ip=198.51.100.0/24") {
		t.Fatalf("client network not logged:\n%s", e.log.String())
	}
	e2 := newEnv(t)
	readBody(t, e2.get(e2.srv.URL+"/healthz", "X-Forwarded-For", "198.51.100.77"))
	if strings.Contains(e2.log.String(), "198.51.100") || !strings.Contains(e2.log.String(), "ip=127.0.0.0/24") {
		t.Fatalf("an untrusted peer's header was believed:\n%s", e2.log.String())
	}
}

func TestMetricsAccess(t *testing.T) {
	const token = "scrape-token-0123456789"
	get := func(e *env, header ...string) int {
		t.Helper()
		resp := e.get(e.srv.URL+"/metrics", header...)
		body := readBody(t, resp)
		if resp.StatusCode == http.StatusOK && !strings.Contains(body, "aula_meetings_created_total") {
			t.Fatalf("200 without metrics: %q", body)
		}
		if resp.StatusCode != http.StatusOK && strings.Contains(body, "aula_") {
			t.Fatalf("refusal shows metrics: %q", body)
		}
		return resp.StatusCode
	}
	e := newEnv(t) // the test client is on loopback
	if code := get(e); code != http.StatusOK {
		t.Errorf("loopback by default: %d", code)
	}
	// Through a proxy on loopback that nobody declared trusted: the
	// client is unknown, loopback does not count.
	if code := get(e, "X-Forwarded-For", "203.0.113.9"); code != http.StatusForbidden {
		t.Errorf("forwarded by an untrusted proxy: %d, want 403", code)
	}

	eTok := newEnv(t, func(o *Options) { o.MetricsToken = token; o.MetricsAllow = []netip.Prefix{} })
	for _, tc := range []struct {
		header []string
		want   int
	}{
		{nil, http.StatusUnauthorized},
		{[]string{"Authorization", "Bearer " + token}, http.StatusOK},
		{[]string{"Authorization", "Bearer " + token + "x"}, http.StatusUnauthorized},
		{[]string{"Authorization", "Basic " + token}, http.StatusUnauthorized},
	} {
		if code := get(eTok, tc.header...); code != tc.want {
			t.Errorf("%v: %d, want %d", tc.header, code, tc.want)
		}
	}
	resp := eTok.get(eTok.srv.URL + "/metrics")
	readBody(t, resp)
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without a Bearer challenge: %v", resp.Header)
	}

	// An allowlist behind a trusted proxy is checked against the client.
	eNet := newEnv(t, func(o *Options) {
		o.TrustedProxies = loopback
		o.MetricsAllow = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	})
	if code := get(eNet, "X-Forwarded-For", "192.0.2.10"); code != http.StatusOK {
		t.Errorf("allowed client behind a trusted proxy: %d", code)
	}
	if code := get(eNet, "X-Forwarded-For", "203.0.113.9"); code != http.StatusForbidden {
		t.Errorf("other client behind a trusted proxy: %d, want 403", code)
	}
	if code := get(eNet); code != http.StatusForbidden {
		t.Errorf("the proxy itself (loopback) not on the list: %d, want 403", code)
	}
}

// TestDraining: a draining node refuses new meetings with a clear FAILED,
// still answers create and join of a running one, and /readyz fails.
func TestDraining(t *testing.T) {
	var draining atomic.Bool
	e := newEnv(t, func(o *Options) { o.Draining = draining.Load })
	e.create("running")
	draining.Store(true)
	body := e.mustFail("create", url.Values{"meetingID": {"new-one"}, "name": {"New"}}, "internalError")
	if !strings.Contains(body, "shutting down") {
		t.Errorf("no clear message: %s", body)
	}
	e.create("running") // Moodle calls create before every join
	e.joinXML("running", "Late Student", "VIEWER")
	resp := e.get(e.srv.URL + "/readyz")
	if b := readBody(t, resp); resp.StatusCode != http.StatusServiceUnavailable || b != "draining\n" {
		t.Errorf("readyz while draining: %d %q", resp.StatusCode, b)
	}
	draining.Store(false)
	e.create("new-one")
}

// TestFramedCookie: embedded in a platform's frame over https the session
// cookie is SameSite=None and Partitioned; otherwise Lax.
func TestFramedCookie(t *testing.T) {
	for _, tc := range []struct {
		name      string
		public    string
		ancestors []string
		want      []string
		not       []string
	}{
		{"framed over https", "https://aula.example", []string{"https://lms.example"}, []string{"SameSite=None", "Partitioned", "Secure", "HttpOnly"}, []string{"Expires", "Max-Age"}},
		{"not framed", "https://aula.example", nil, []string{"SameSite=Lax", "Secure"}, []string{"Partitioned", "SameSite=None"}},
		{"framed over plain http", "", []string{"https://lms.example"}, []string{"SameSite=Lax"}, []string{"Secure", "SameSite=None"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) {
				o.FrameAncestors = tc.ancestors
				if tc.public != "" {
					o.PublicURL, _ = url.Parse(tc.public)
				}
			})
			e.create("framed")
			j := e.joinXML("framed", "Fiona", "VIEWER")
			i := strings.Index(j.URL, "/join/")
			if i < 0 {
				t.Fatalf("join URL %q", j.URL)
			}
			resp := e.get(e.srv.URL + j.URL[i:])
			readBody(t, resp)
			sc := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
			for _, w := range tc.want {
				if !strings.Contains(sc, w) {
					t.Errorf("cookie %q lacks %s", sc, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(sc, n) {
					t.Errorf("cookie %q has %s", sc, n)
				}
			}
		})
	}
}
