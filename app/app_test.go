package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"aula/store"
)

// TestTryItLinks is the newcomer's minute: the server starts with the
// embedded store, the demo room exists, and both printed links lead a
// browser into the client with a session cookie.
func TestTryItLinks(t *testing.T) {
	cfg := Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	ctx := context.Background()
	a, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if !a.SecretGenerated() || len(a.Secret()) < 32 {
		t.Fatalf("expected a generated secret, got %q", a.Secret())
	}
	mod, viewer, err := a.DemoLinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{mod, viewer} {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		resp, err := c.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.Path, "/r/") {
			t.Fatalf("link %s ended at %s with %d", link, resp.Request.URL, resp.StatusCode)
		}
		if !strings.Contains(string(body), "<html") {
			t.Fatalf("no client page: %.200s", body)
		}
		if len(jar.Cookies(resp.Request.URL)) != 1 {
			t.Fatalf("want exactly the session cookie, got %v", jar.Cookies(resp.Request.URL))
		}
	}
	// Draining ends the demo meeting and leaves no key behind.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st := a.Store()
	if err := a.Close(sctx); err != nil {
		t.Fatal(err)
	}
	keys, err := store.Keys(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("keys left after drain: %v", keys)
	}
}
