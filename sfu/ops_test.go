package sfu

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v4"

	"aula/internal/testenv"
)

// allocate runs a TURN allocation through conn (a STUN/TURN transport)
// with credentials from ICEServers, and checks that a relay was given.
func allocate(t *testing.T, conn net.PacketConn, server string, ice ICEServer) {
	t.Helper()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Conn: conn,
		Username: ice.Username, Password: ice.Credential, Realm: "aula.test",
		LoggerFactory: pionLogs{testLogger()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate through %s: %v", server, err)
	}
	defer relay.Close()
	if _, ok := relay.LocalAddr().(*net.UDPAddr); !ok {
		t.Fatalf("relay address %v", relay.LocalAddr())
	}
}

// TestTURNOverTLS: with a TLS listener the client gets a turns: URL, and a
// Pion TURN client that checks the certificate allocates a relay through
// it (school networks that let only TLS on 443 out).
func TestTURNOverTLS(t *testing.T) {
	cert := testenv.SelfSignedCert(t, time.Time{}, time.Time{}, "turn.aula.test")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s := newTestSFU(t, func(c *Config) {
		c.TURN = TURNConfig{Enabled: true, Realm: "aula.test", Secret: "0123456789abcdef0123", TLSListener: ln}
	})
	servers, err := s.ICEServers("turn.aula.test", "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := "turns:turn.aula.test:" + itoa(int64(port)) + "?transport=tcp"
	found := false
	for _, u := range servers[0].URLs {
		found = found || u == want
	}
	if !found {
		t.Fatalf("ICE servers %v lack %s", servers[0].URLs, want)
	}
	tc, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "turn.aula.test", RootCAs: cert.Pool})
	if err != nil {
		t.Fatalf("TLS to TURN: %v", err)
	}
	allocate(t, turn.NewSTUNConn(tc), ln.Addr().String(), servers[0])

	// Without the listener there is no turns: URL.
	plain := newTestSFU(t, func(c *Config) {
		c.TURN = TURNConfig{Enabled: true, Realm: "aula.test", Secret: "0123456789abcdef0123"}
	})
	servers, err = plain.ICEServers("turn.aula.test", "bob")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range servers[0].URLs {
		if strings.HasPrefix(u, "turns:") {
			t.Fatalf("turns: offered without TLS: %v", servers[0].URLs)
		}
	}
}

// TestTURNOnIPv6: listening on all addresses, TURN also answers on IPv6
// (when the machine has it): a STUN binding request over IPv6 gets its
// success response. The relay port range is kept too.
func TestTURNOnIPv6(t *testing.T) {
	conn, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer conn.Close()
	s := newTestSFU(t, func(c *Config) {
		c.ListenIP = ""
		c.TURN = TURNConfig{Enabled: true, Realm: "aula.test", Secret: "0123456789abcdef0123", RelayPortMin: 31000, RelayPortMax: 31099}
	})
	var v6 *net.UDPAddr
	for _, a := range s.TURNAddrs() {
		if u, ok := a.(*net.UDPAddr); ok && u.IP.To4() == nil {
			v6 = u
		}
	}
	if v6 == nil {
		t.Fatalf("TURN listens on %v: no IPv6", s.TURNAddrs())
	}
	// A STUN binding request: type 1, no attributes, magic cookie.
	req := []byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if _, err := conn.WriteTo(req, &net.UDPAddr{IP: net.IPv6loopback, Port: v6.Port}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 512)
	n, _, err := conn.ReadFrom(b)
	if err != nil {
		t.Fatalf("no answer from TURN over IPv6: %v", err)
	}
	if n < 20 || b[0] != 0x01 || b[1] != 0x01 || string(b[8:20]) != string(req[8:20]) {
		t.Fatalf("not a binding success response: % x", b[:n])
	}

	// The relay range: an allocation over IPv4 gets a port inside it.
	servers, err := s.ICEServers("127.0.0.1", "carol")
	if err != nil {
		t.Fatal(err)
	}
	c4, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c4.Close()
	server := "127.0.0.1:" + itoa(int64(v6.Port))
	cl, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: server, TURNServerAddr: server, Conn: c4,
		Username: servers[0].Username, Password: servers[0].Credential, Realm: "aula.test", LoggerFactory: pionLogs{testLogger()}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := cl.Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	defer relay.Close()
	if p := relay.LocalAddr().(*net.UDPAddr).Port; p < 31000 || p > 31099 {
		t.Errorf("relay port %d outside 31000-31099", p)
	}
}

// TestBindIPs: media listens on exactly the bind addresses (one socket
// each, never the wildcard) and refuses an address of another machine.
func TestBindIPs(t *testing.T) {
	// Loopback and, when the machine has one, another address of it.
	binds := []string{"127.0.0.1"}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() && n.IP.To4() != nil {
			binds = append(binds, n.IP.String())
			break
		}
	}
	s := newTestSFU(t, func(c *Config) { c.ListenIP, c.IncludeLoopback, c.BindIPs = "", false, binds })
	var got []string
	for _, a := range s.UDPAddrs() {
		got = append(got, a.(*net.UDPAddr).IP.String())
	}
	if len(got) != len(binds) {
		t.Fatalf("media listens on %v, want %v", got, binds)
	}
	for _, b := range binds {
		if !strings.Contains(strings.Join(got, " "), b) {
			t.Errorf("media listens on %v, not on %s", got, b)
		}
	}
	// Media flows through a bind address (loopback candidates are offered
	// because loopback was asked for by name).
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	alice.publish(pubOpts{kind: KindMic})
	eventually(t, "audio through a bind address", func() bool {
		a := bob.received("alice", KindMic)
		return a != nil && a.packets.Load() >= 20
	})
	// What an operator watches: peers, tracks, how long connecting took,
	// and the browsers' loss reports.
	if l := s.Load(); l.Rooms != 1 || l.Peers != 2 || l.Tracks != 1 {
		t.Errorf("load %+v, want 1 room, 2 peers, 1 track", l)
	}
	eventually(t, "connect times counted", func() bool {
		var n uint64
		for _, c := range s.Stats().Connect {
			n += c
		}
		return n >= 2
	})
	eventually(t, "receiver reports counted", func() bool {
		var n uint64
		for _, c := range s.Stats().Loss {
			n += c
		}
		return n >= 1
	})

	_, err := New(Config{BindIPs: []string{"192.0.2.1", "127.0.0.1"}, Logger: testLogger()})
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Fatalf("a foreign bind address: %v", err)
	}
}
