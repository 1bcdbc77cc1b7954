package web

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"testing"
	"time"
)

// serveLimited serves "ok" through LimitListener and returns the address.
func serveLimited(t *testing.T, perSource, total int, exempt ...netip.Prefix) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})}
	go func() { _ = srv.Serve(LimitListener(ln, perSource, total, exempt...)) }()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// roundTrip sends one keep-alive request on c and reports whether "ok"
// came back.
func roundTrip(c net.Conn) error {
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "ok" {
		return errors.New("bad reply")
	}
	return nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedAtOnce asserts the server closed c without answering: a read ends
// (EOF or reset) well before the deadline.
func closedAtOnce(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_, err := c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection over the cap was kept: %v", err)
	}
}

// TestLimitListenerPerSource: the N+1-th connection from one address is
// closed at once; a place freed is taken again.
func TestLimitListenerPerSource(t *testing.T) {
	addr := serveLimited(t, 2, 0)
	c1, c2 := dial(t, addr), dial(t, addr)
	for _, c := range []net.Conn{c1, c2} {
		if err := roundTrip(c); err != nil {
			t.Fatal(err)
		}
	}
	closedAtOnce(t, dial(t, addr))
	// The server notices c1's close and frees its place (poll: no sleep).
	c1.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dial(t, addr)
		if roundTrip(c) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no place after a connection closed")
		}
	}
}

func TestLimitListenerTotalAndExempt(t *testing.T) {
	addr := serveLimited(t, 1, 3, netip.MustParsePrefix("127.0.0.0/8"))
	for range 3 {
		if err := roundTrip(dial(t, addr)); err != nil {
			t.Fatalf("exempt source capped: %v", err)
		}
	}
	closedAtOnce(t, dial(t, addr))
}
