package web

import (
	"context"
	"encoding/xml"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"aula/present"
	"aula/room"
)

// allowLoopback lets outbound fetches reach test servers on this machine.
func allowLoopback(o *Options) {
	o.FetchAllowNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// countingServer is a document/avatar host on loopback that counts hits.
type countingServer struct {
	*httptest.Server
	hits atomic.Int32
}

func newCountingServer(t *testing.T, ln net.Listener, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		h(w, r)
	}))
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Start()
	t.Cleanup(srv.Close)
	cs.Server = srv
	return cs
}

func servePNG(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(tinyPNG)
}

// postModules sends create with an XML body and returns the reply.
func (e *env) postModules(id, body string) bbbFailed {
	e.t.Helper()
	q := url.Values{"meetingID": {id}, "name": {"Slides"}}.Encode()
	resp, err := e.http.Post(e.srv.URL+"/bigbluebutton/api/create?"+q+"&checksum="+Sign("sha1", "create", q, testSecret),
		"application/xml", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	var r bbbFailed
	if err := xml.Unmarshal([]byte(readBody(e.t, resp)), &r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// TestFetchRefusesLoopbackUnlessAllowed: a document URL on this machine is
// never fetched by default (the meeting starts; the document shows as
// failed to download, and nothing tells why); the operator's allow
// setting opens it.
func TestFetchRefusesLoopbackUnlessAllowed(t *testing.T) {
	doc := newCountingServer(t, nil, servePNG)
	e := newEnv(t)
	r := e.postModules("ssrf-1", modules(`<document url="`+doc.URL+`/slides.png"/>`))
	if r.ReturnCode != "SUCCESS" {
		t.Fatalf("create with a loopback document: %+v", r)
	}
	d := e.docs("ssrf-1", 1)[0]
	if d.Status != room.DocFailed || d.Error != present.CodeDownload {
		t.Fatalf("loopback document: %+v", d)
	}
	if doc.hits.Load() != 0 {
		t.Fatalf("loopback server was contacted %d times", doc.hits.Load())
	}
	// The real reason is in the log for the operator.
	if !strings.Contains(e.log.String(), "not allowed") {
		t.Errorf("log lacks the reason:\n%s", e.log.String())
	}

	allowed := newEnv(t, allowLoopback)
	if r := allowed.postModules("ssrf-2", modules(`<document url="`+doc.URL+`/slides.png"/>`)); r.ReturnCode != "SUCCESS" {
		t.Fatalf("allowed loopback: %+v", r)
	}
	if d := allowed.docs("ssrf-2", 1)[0]; d.Status != room.DocReady {
		t.Fatalf("allowed loopback document: %+v", d)
	}
	if doc.hits.Load() != 1 {
		t.Fatalf("hits %d", doc.hits.Load())
	}
}

// TestFetchErrorsAreAlike: a closed port, an open one answering 404 and a
// refused address all end the same way, so nothing a platform (or someone
// replaying its create) sees can be used to scan a network.
func TestFetchErrorsAreAlike(t *testing.T) {
	doc := newCountingServer(t, nil, http.NotFound)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/x.pdf"
	closed.Close()
	e := newEnv(t, func(o *Options) { o.FetchAllowNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	seen := map[string]bool{}
	for i, u := range []string{doc.URL + "/missing.pdf", closedURL, "http://10.255.255.1:9/x.pdf", "http://[::1]:1/x.pdf"} {
		id := "alike-" + string(rune('a'+i))
		r := e.postModules(id, modules(`<document url="`+u+`"/>`))
		if r.ReturnCode != "SUCCESS" {
			t.Fatalf("%s: %+v", u, r)
		}
		d := e.docs(id, 1)[0]
		seen[r.MessageKey+"|"+r.Message+"|"+d.Status+"|"+d.Error] = true
	}
	if len(seen) != 1 {
		t.Fatalf("fetch failures are told apart: %v", seen)
	}
}

// listenOn listens on a loopback address other than 127.0.0.1, or skips.
func listenOn(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	return ln
}

// TestFetchRedirectToRefusedAddress: an allowed host that redirects to a
// refused address does not get the refused one fetched: the check is made
// on every connection, redirects included.
func TestFetchRedirectToRefusedAddress(t *testing.T) {
	inner := newCountingServer(t, listenOn(t, "127.0.0.2:0"), servePNG)
	outer := newCountingServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/secret.png", http.StatusFound)
	})
	only := func(o *Options) { o.FetchAllowNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }
	e := newEnv(t, only)
	if r := e.postModules("redir-1", modules(`<document url="`+outer.URL+`/slides.png"/>`)); r.ReturnCode != "SUCCESS" {
		t.Fatalf("create: %+v", r)
	}
	if d := e.docs("redir-1", 1)[0]; d.Error != present.CodeDownload {
		t.Fatalf("redirect to a refused address: %+v", d)
	}
	if outer.hits.Load() != 1 || inner.hits.Load() != 0 {
		t.Fatalf("hits outer %d inner %d", outer.hits.Load(), inner.hits.Load())
	}
	// The same redirect within allowed networks is followed.
	e2 := newEnv(t, allowLoopback)
	if r := e2.postModules("redir-2", modules(`<document url="`+outer.URL+`/slides.png"/>`)); r.ReturnCode != "SUCCESS" {
		t.Fatalf("allowed redirect: %+v", r)
	}
	if d := e2.docs("redir-2", 1)[0]; d.Status != room.DocReady {
		t.Fatalf("allowed redirect: %+v", d)
	}
	if inner.hits.Load() != 1 {
		t.Fatalf("inner hits %d", inner.hits.Load())
	}
}

// TestAvatarFetchGuarded: avatars go through the same guard.
func TestAvatarFetchGuarded(t *testing.T) {
	ctx := context.Background()
	inner := newCountingServer(t, listenOn(t, "127.0.0.2:0"), servePNG)
	direct := newCountingServer(t, nil, servePNG)
	redirect := newCountingServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/a.png", http.StatusFound)
	})
	avatar := func(e *env, avatarURL string) int {
		t.Helper()
		e.create("av")
		var j bbbJoin
		e.call("join", url.Values{"meetingID": {"av"}, "fullName": {"Ann"}, "role": {"MODERATOR"}, "redirect": {"false"}, "avatarURL": {avatarURL}}, &j)
		c, loc := e.enter(j)
		e.attach(ctx, c)
		resp := e.get(loc+"avatar/"+j.UserID, "Cookie", CookieName+"="+c.Value)
		readBody(t, resp)
		return resp.StatusCode
	}
	if st := avatar(newEnv(t), direct.URL+"/a.png"); st != http.StatusBadGateway || direct.hits.Load() != 0 {
		t.Fatalf("loopback avatar: status %d, hits %d", st, direct.hits.Load())
	}
	only := func(o *Options) { o.FetchAllowNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }
	if st := avatar(newEnv(t, only), redirect.URL+"/a.png"); st != http.StatusBadGateway || inner.hits.Load() != 0 {
		t.Fatalf("avatar redirected to a refused address: status %d, hits %d", st, inner.hits.Load())
	}
	if st := avatar(newEnv(t, allowLoopback), direct.URL+"/a.png"); st != http.StatusOK || direct.hits.Load() != 1 {
		t.Fatalf("allowed avatar: status %d, hits %d", st, direct.hits.Load())
	}
}

func TestAddrGuard(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.1.2.3", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3", "224.0.0.1",
		"239.255.255.250", "255.255.255.255", "240.0.0.1", "192.0.0.8", "198.18.0.1", "192.0.2.1",
		"::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
		"64:ff9b::a00:1", "64:ff9b:1::1", "2002:a00:1::1", "2001::1", "2001:db8::1", "100::1",
	}
	allowed := []string{"93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8"}
	g := newAddrGuard(nil)
	for _, s := range refused {
		if err := g.check(netip.MustParseAddr(s)); err == nil {
			t.Errorf("%s allowed", s)
		}
	}
	for _, s := range allowed {
		if err := g.check(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}
	g = newAddrGuard([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")})
	for _, s := range []string{"10.1.2.3", "::ffff:10.1.2.3", "fd12::1"} {
		if err := g.check(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s refused despite the allow list: %v", s, err)
		}
	}
	for _, s := range []string{"127.0.0.1", "192.168.0.1", "fc00::1"} {
		if err := g.check(netip.MustParseAddr(s)); err == nil {
			t.Errorf("%s allowed by an allow list that does not name it", s)
		}
	}
	// The dial hook sees "ip:port" (and refuses what it cannot parse).
	if err := g.control("tcp4", "127.0.0.1:80", nil); err == nil {
		t.Error("control allowed loopback")
	}
	if err := g.control("tcp", "not-an-address", nil); err == nil {
		t.Error("control allowed garbage")
	}
	if err := g.control("tcp6", "[2606:4700:4700::1111]:443", nil); err != nil {
		t.Errorf("control refused a public address: %v", err)
	}
}

func TestParseNetworks(t *testing.T) {
	got, err := ParseNetworks(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,,::1 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "fd00::/8", "::1/128"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.org", "10.0.0.1/8x", "300.1.1.1"} {
		if _, err := ParseNetworks(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if n, err := ParseNetworks(""); err != nil || len(n) != 0 {
		t.Fatalf("empty: %v %v", n, err)
	}
}
