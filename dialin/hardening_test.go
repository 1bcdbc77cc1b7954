package dialin

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
)

// The SIP-side faults of an attacker's run (issue 6, "Hardening").

// dialAll places n calls at once; opts gives call i's options. A refused
// call leaves a nil phone and its error.
func dialAll(t *testing.T, gw *Gateway, n int, opts func(i int) dialOpts) ([]*phone, []error) {
	t.Helper()
	phones, errs := make([]*phone, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			phones[i], errs[i] = dial(t, gw, opts(i))
		}()
	}
	wg.Wait()
	return phones, errs
}

// countByes counts the phones that got a BYE from the gateway.
func countByes(t *testing.T, phones []*phone) *atomic.Int64 {
	var n atomic.Int64
	for _, p := range phones {
		if p == nil {
			continue
		}
		go func() {
			select {
			case <-p.Byes():
				n.Add(1)
			case <-t.Context().Done():
			}
		}()
	}
	return &n
}

// typeAll makes every phone type its keys at the same moment.
func typeAll(phones []*phone, keys func(i int) string) {
	var wg sync.WaitGroup
	for i, p := range phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.digits4733(keys(i))
		}()
	}
	wg.Wait()
}

// Item 1: forty calls from one source type wrong PINs at the same moment.
// The budget is spent before a PIN is looked up, so concurrency buys no
// more checks than the budget holds (it bought 210 for 150 calls when the
// budget was only checked on arrival and spent after a failure).
func TestParallelWrongPINsCannotOutrunTheBudget(t *testing.T) {
	t.Parallel()
	const calls, budget = 40, 8
	clock := newFakeClock() // frozen: the budget does not refill meanwhile
	e := newEnv(t, func(c *Config) {
		c.Now = clock.Now
		c.SourceLimit = RateLimit{Burst: budget, Every: time.Hour}
		c.PINTries = 1
		c.PendingPerSource, c.MaxPending = calls, calls
	})
	e.meeting("parallel", "97979", true)
	// Withheld numbers: no per-number budget and no reserve, so the
	// source's budget alone stands between them and the meetings.
	phones, errs := dialAll(t, e.gw, calls, func(int) dialOpts { return dialOpts{From: "anonymous"} })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d refused: %v", i, err)
		}
	}
	byes := countByes(t, phones)
	typeAll(phones, func(i int) string { return fmt.Sprintf("%05d#", 10000+i) })
	eventually(t, 30*time.Second, "every call hung up", func() bool { return byes.Load() == calls })
	checks := e.store.pinLookups.Load()
	if checks > budget {
		t.Fatalf("%d PINs were looked up in the store; the budget is %d", checks, budget)
	}
	st := e.gw.Stats()
	if int64(st.PINChecks) != checks || int64(st.PINLimited) != calls-checks {
		t.Errorf("stats = %+v, want %d checks and %d limited", st, checks, calls-checks)
	}
	if !strings.Contains(e.log.String(), "no PIN attempts left") {
		t.Errorf("no log line for the refused checks")
	}
}

// Item 1: calls that have not yet entered a right PIN are capped per
// source and in total; more INVITEs get 486 with Retry-After, and a
// caller who got in frees its place.
func TestUnauthenticatedCallsCapped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		perSource, total int
	}{
		{"per source", 3, 100},
		{"in total", 100, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) { c.PendingPerSource, c.MaxPending = tc.perSource, tc.total })
			mt, _, _ := e.meeting("pending", "65656", true)
			var first []*phone
			for i := range 3 {
				p, err := dial(t, e.gw, dialOpts{From: fmt.Sprintf("+49305550%03d", i)})
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				first = append(first, p)
			}
			_, err := dial(t, e.gw, dialOpts{From: "+49305559999"})
			if statusOf(err) != 486 {
				t.Fatalf("call over the cap: err = %v, want 486", err)
			}
			var re *sipgo.ErrDialogResponse
			if !errors.As(err, &re) || re.Res.GetHeader("Retry-After") == nil {
				t.Errorf("486 without Retry-After: %v", err)
			}
			logs := e.log.String()
			if !strings.Contains(logs, "call refused") || !strings.Contains(logs, "source=127.0.0.1") {
				t.Errorf("no log line with the refusal's source:\n%s", logs)
			}
			if strings.Contains(logs, "5559999") {
				t.Errorf("the refused calling number reached the log")
			}
			// The first caller enters the right PIN: no longer pending.
			first[0].digits4733("65656#")
			eventually(t, 5*time.Second, "first caller joined", func() bool { return len(e.phones(mt.Key)) == 1 })
			eventually(t, 5*time.Second, "a place for another caller", func() bool {
				_, err := dial(t, e.gw, dialOpts{From: "+49305559999"})
				return err == nil
			})
		})
	}
}

// Item 2: all callers of a trunk share its address. Wrong PINs from many
// numbers use up the source's budget and then the small fresh-number
// reserve (at most its burst, then one per refill); afterwards an honest
// caller from the same trunk with a new number and the right PIN is
// slowed (queued for the reserve), not locked out.
func TestTrunkAttackLeavesRoomForAnHonestCaller(t *testing.T) {
	t.Parallel()
	const calls = 30
	clock := newFakeClock()
	source := RateLimit{Burst: 10, Every: time.Hour}
	fresh := RateLimit{Burst: 4, Every: time.Minute}
	e := newEnv(t, func(c *Config) {
		c.Now = clock.Now
		c.SourceLimit, c.FreshLimit, c.FreshWait = source, fresh, time.Minute
		c.PINTries = 1
		c.PendingPerSource, c.MaxPending = calls+5, calls+5
	})
	mt, _, _ := e.meeting("trunk", "24242", true)
	phones, errs := dialAll(t, e.gw, calls, func(i int) dialOpts { return dialOpts{From: fmt.Sprintf("+4917600%04d", i)} })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d refused: %v", i, err)
		}
	}
	byes := countByes(t, phones)
	typeAll(phones, func(i int) string { return fmt.Sprintf("%05d#", 30000+i) })
	// Each call hangs up after its check or its refusal, or waits for the
	// reserve (FreshWait is one refill: room for one in the queue).
	eventually(t, 30*time.Second, "the attack settled", func() bool {
		return int(byes.Load())+e.gw.Stats().PINQueued == calls
	})
	limit := int64(source.Burst + fresh.Burst) // the clock stood still
	if n := e.store.pinLookups.Load(); n > limit {
		t.Fatalf("%d PINs checked from many numbers on one source; the documented limit is %d", n, limit)
	}
	// The source's budget is spent: a withheld caller gets no reserve.
	if _, err := dial(t, e.gw, dialOpts{From: "anonymous"}); statusOf(err) != 403 {
		t.Errorf("withheld caller from the exhausted trunk: err = %v, want 403", err)
	}
	// One refill later the queued attack check is made (it came first).
	clock.advance(fresh.Every)
	eventually(t, 10*time.Second, "the queued check made", func() bool { return byes.Load() == calls })
	if n := e.store.pinLookups.Load(); n > limit+1 {
		t.Fatalf("%d PINs checked after one refill; the documented limit is %d", n, limit+1)
	}
	// The honest caller: a new number, the right PIN.
	p, err := dial(t, e.gw, dialOpts{From: "+4917699999999"})
	if err != nil {
		t.Fatalf("honest caller refused: %v", err)
	}
	p.digits4733("24242#")
	eventually(t, 10*time.Second, "the honest caller queued for the reserve", func() bool { return e.gw.Stats().PINQueued == 1 })
	clock.advance(fresh.Every)
	eventually(t, 10*time.Second, "the honest caller in the room", func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && ps[0].InRoom
	})
	if n := e.store.pinLookups.Load(); n > limit+2 {
		t.Fatalf("%d PINs checked in all; the documented limit is %d", n, limit+2)
	}
}

// readUntilClosed reads c until the server closes it (true) or within
// passes (false); it returns what was read.
func readUntilClosed(c net.Conn, within time.Duration) (bool, string) {
	c.SetReadDeadline(time.Now().Add(within))
	var got strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			return !errors.Is(err, os.ErrDeadlineExceeded), got.String()
		}
	}
}

// openTCP connects to addr from the loopback address from.
func openTCP(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const halfInvite = "INVITE sip:dialin@127.0.0.1 SIP/2.0\r\n" +
	"Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-half\r\n" +
	"From: <sip:anonymous@trunk.invalid>;tag=h1\r\n"

// optionsOver sends an OPTIONS request over c and returns the status
// line of the answer.
func optionsOver(t *testing.T, c net.Conn, transport string, id int) string {
	t.Helper()
	req := fmt.Sprintf("OPTIONS sip:dialin@%s SIP/2.0\r\n"+
		"Via: SIP/2.0/%s %s;branch=z9hG4bK-opt%d\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:probe@trunk.invalid>;tag=o%d\r\nTo: <sip:dialin@%s>\r\n"+
		"Call-ID: options-%d@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		c.RemoteAddr(), transport, c.LocalAddr(), id, id, c.RemoteAddr(), id)
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	var got []byte
	buf := make([]byte, 4096)
	for !strings.Contains(string(got), "\r\n\r\n") {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("OPTIONS over %s: %v (read %q)", transport, err, got)
		}
		got = append(got, buf[:n]...)
	}
	line, _, _ := strings.Cut(string(got), "\r\n")
	return line
}

// Item 3: SIP over TCP and TLS had no read timeout; 300 half-sent
// connections were held for good. Now a message must arrive whole within
// ConnMessageTimeout (trickling does not help) and a connection without
// a call is closed after ConnIdleTimeout without a message.
func TestStreamConnectionsTimeOut(t *testing.T) {
	t.Parallel()
	cert := selfSigned(t)
	e := newEnv(t, func(c *Config) {
		c.ConnMessageTimeout = 300 * time.Millisecond
		c.ConnIdleTimeout = 600 * time.Millisecond
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		c.TLSAddr = "127.0.0.1:0"
	})
	tcpAddr, tlsAddr := e.gw.Addr().String(), e.gw.TLSAddr().String()
	tlsOpen := func(t *testing.T) net.Conn {
		c := tls.Client(openTCP(t, "127.0.0.1", tlsAddr), &tls.Config{InsecureSkipVerify: true})
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	cases := []struct {
		name string
		open func(t *testing.T) net.Conn
		send func(t *testing.T, c net.Conn)
	}{
		{"silent TCP", func(t *testing.T) net.Conn { return openTCP(t, "127.0.0.1", tcpAddr) }, nil},
		{"half a request over TCP", func(t *testing.T) net.Conn { return openTCP(t, "127.0.0.1", tcpAddr) },
			func(t *testing.T, c net.Conn) { c.Write([]byte(halfInvite)) }},
		{"a request trickled over TCP", func(t *testing.T) net.Conn { return openTCP(t, "127.0.0.1", tcpAddr) },
			func(t *testing.T, c net.Conn) {
				go func() {
					for i := 0; ; i = (i + 1) % len(halfInvite) {
						if _, err := c.Write([]byte{halfInvite[i]}); err != nil {
							return
						}
						select {
						case <-time.After(20 * time.Millisecond): // the trickle's pace
						case <-t.Context().Done():
							return
						}
					}
				}()
			}},
		{"no TLS handshake", func(t *testing.T) net.Conn { return openTCP(t, "127.0.0.1", tlsAddr) }, nil},
		{"half a request over TLS", tlsOpen, func(t *testing.T, c net.Conn) { c.Write([]byte(halfInvite)) }},
		{"idle after a request over TCP", func(t *testing.T) net.Conn { return openTCP(t, "127.0.0.1", tcpAddr) },
			func(t *testing.T, c net.Conn) {
				if line := optionsOver(t, c, "TCP", 1); !strings.Contains(line, " 200 ") {
					t.Errorf("OPTIONS: %q", line)
				}
			}},
		{"idle after a request over TLS", tlsOpen,
			func(t *testing.T, c net.Conn) {
				if line := optionsOver(t, c, "TLS", 2); !strings.Contains(line, " 200 ") {
					t.Errorf("OPTIONS: %q", line)
				}
			}},
	}
	t.Run("group", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				c := tc.open(t)
				if tc.send != nil {
					tc.send(t, c)
				}
				if closed, _ := readUntilClosed(c, 5*time.Second); !closed {
					t.Errorf("still open after 5s (timeouts: message %v, idle %v)", e.gw.cfg.ConnMessageTimeout, e.gw.cfg.ConnIdleTimeout)
				}
			})
		}
	})
	eventually(t, 5*time.Second, "no connection left", func() bool { return e.gw.Stats().Conns == 0 })
	if n := e.gw.Stats().ConnsTimedOut; n < uint64(len(cases)) {
		t.Errorf("ConnsTimedOut = %d, want at least %d", n, len(cases))
	}
}

// Item 3: a call's TCP connection stays open past the idle timeout: its
// dialog's BYE must be able to come back on it.
func TestStreamConnectionOfACallStaysOpen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		c.ConnMessageTimeout = 300 * time.Millisecond
		c.ConnIdleTimeout = 600 * time.Millisecond
	})
	p, err := dial(t, e.gw, dialOpts{From: testNumber, Transport: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	// An idle connection opened now shows when the idle timeout has passed.
	idle := openTCP(t, "127.0.0.1", e.gw.Addr().String())
	if closed, _ := readUntilClosed(idle, 5*time.Second); !closed {
		t.Fatal("the idle connection was not closed")
	}
	if st := e.gw.Stats(); st.Conns != 1 || st.ConnsTimedOut != 1 {
		t.Errorf("stats = %+v, want the call's connection open and one timed out", st)
	}
	p.hangup()
	eventually(t, 5*time.Second, "call gone", func() bool { return e.gw.Calls() == 0 })
	// Without its call the connection is idle like any other.
	eventually(t, 5*time.Second, "the call's connection closed after the call", func() bool { return e.gw.Stats().Conns == 0 })
}

// Item 3: TCP (and TLS) connections are capped per source address and in
// total; one over a cap is closed at once.
func TestStreamConnectionCaps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		c.MaxConnsPerSource, c.MaxConns = 3, 5
		c.ConnMessageTimeout, c.ConnIdleTimeout = time.Minute, time.Minute // only a cap closes a connection here
	})
	addr := e.gw.Addr().String()
	id := 0
	served := func(from string) net.Conn {
		t.Helper()
		c := openTCP(t, from, addr)
		id++
		if line := optionsOver(t, c, "TCP", id); !strings.Contains(line, " 200 ") {
			t.Fatalf("OPTIONS from %s: %q", from, line)
		}
		return c
	}
	refused := func(from string) {
		t.Helper()
		c := openTCP(t, from, addr)
		if closed, _ := readUntilClosed(c, 5*time.Second); !closed {
			t.Errorf("a connection from %s over the cap stays open", from)
		}
	}
	var keep []net.Conn
	for range 3 {
		keep = append(keep, served("127.0.0.1"))
	}
	refused("127.0.0.1") // per source
	keep = append(keep, served("127.0.0.2"), served("127.0.0.2"))
	refused("127.0.0.3") // in total
	// The refusal is counted and logged after the connection is closed.
	eventually(t, 5*time.Second, "5 open and 2 refused in the stats", func() bool {
		st := e.gw.Stats()
		return st.Conns == 5 && st.ConnsRefused == 2
	})
	eventually(t, 5*time.Second, "a log line for the refused connection", func() bool {
		return strings.Contains(e.log.String(), "source=127.0.0.3")
	})
	if logs := e.log.String(); !strings.Contains(logs, "SIP connection refused") || !strings.Contains(logs, "source=127.0.0.3") {
		t.Errorf("no log line for the refused connection:\n%s", logs)
	}
	keep[0].Close()
	eventually(t, 5*time.Second, "a closed connection frees its place", func() bool { return e.gw.Stats().Conns == 4 })
	served("127.0.0.1")
}

// sendUDP sends one raw datagram to the gateway from a new socket.
func sendUDP(t *testing.T, gw *Gateway, msg func(local string) string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.WriteToUDPAddrPort([]byte(msg(c.LocalAddr().String())), gw.Addr()); err != nil {
		t.Fatal(err)
	}
	return c
}

// udpRequest sends one raw datagram to the gateway and returns the status
// line of its final answer ("" if none came within 5s).
func udpRequest(t *testing.T, gw *Gateway, msg func(local string) string) string {
	t.Helper()
	c := sendUDP(t, gw, msg)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8192)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return ""
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		if f := strings.Fields(line); len(f) >= 2 && f[1] >= "200" {
			return line
		}
	}
}

// rawRequest is a request over UDP from local with the given request line
// version and body.
func rawRequest(method, version, local, body string) string {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return fmt.Sprintf("%s sip:dialin@127.0.0.1 %s\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s%s;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:anonymous@trunk.invalid>;tag=v1\r\nTo: <sip:dialin@127.0.0.1>\r\n"+
		"Call-ID: %s-%s@test\r\nCSeq: 1 %s\r\nContact: <sip:phone@%s>\r\n%sContent-Length: %d\r\n\r\n%s",
		method, version, local, method, strings.ReplaceAll(version, "/", ""), method, strings.ReplaceAll(version, "/", ""), method, local, ct, len(body), body)
}

// Item 4: a request line with another SIP version than 2.0 is refused
// with 505 and changes nothing (it was answered 200).
func TestWrongSIPVersionRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	offer := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
	for _, tc := range []struct {
		method, version, body string
		want                  string
	}{
		{"OPTIONS", "SIP/3.0", "", "SIP/2.0 505 "},
		{"INVITE", "SIP/3.0", offer, "SIP/2.0 505 "},
		{"OPTIONS", "SIP/2.1", "", "SIP/2.0 505 "},
		{"OPTIONS", "sip/2.0", "", "SIP/2.0 200 "}, // the version is case-insensitive (RFC 3261 §7.1); answered as sent
		{"REGISTER", "SIP/3.0", "", "SIP/2.0 505 "},
		{"REGISTER", "SIP/2.0", "", "SIP/2.0 405 "}, // not handled, with Allow
	} {
		line := udpRequest(t, e.gw, func(local string) string { return rawRequest(tc.method, tc.version, local, tc.body) })
		got := line
		if tc.version == "sip/2.0" {
			got = strings.ToUpper(line) // answered in the version it came in
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s … %s: answered %q, want %q", tc.method, tc.version, line, tc.want)
		}
	}
	if st := e.gw.Stats(); st.Calls != 0 || st.Accepted != 0 {
		t.Errorf("a refused INVITE changed the gateway: %+v", st)
	}
}

// Item 4: an offer whose audio stream has port 0 (disabled) leaves no
// audio to answer: 488, no call.
func TestDisabledAudioStreamRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, err := dial(t, e.gw, dialOpts{From: testNumber, EditOffer: func(sdp string) string {
		i := strings.Index(sdp, "m=audio ")
		j := i + strings.Index(sdp[i:], " RTP/")
		return sdp[:i] + "m=audio 0" + sdp[j:]
	}})
	if statusOf(err) != 488 {
		t.Fatalf("offer with audio port 0: err = %v, want 488", err)
	}
	if st := e.gw.Stats(); st.Calls != 0 || st.Accepted != 0 || st.Refused != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// A message sipgo cannot parse was logged whole (at Error), calling number
// and name included; now only its size and the kind of error are.
func TestUnparsableMessageNotLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for i, bad := range []string{
		"From: \"Erika Mustermann\" <sip:+4930123456789@trunk.invalid>;tag=x\r\nCSeq: nope\r\n",
		"Contact\r\n",
	} {
		sendUDP(t, e.gw, func(local string) string {
			return fmt.Sprintf("INVITE sip:dialin@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-bad%d\r\n"+
				"From: \"Erika Mustermann\" <sip:+4930123456789@trunk.invalid>;tag=b%d\r\nTo: <sip:dialin@127.0.0.1>\r\n"+
				"Call-ID: bad-%d@test\r\n%sContent-Length: 0\r\n\r\n", local, i, i, i, bad)
		})
	}
	eventually(t, 5*time.Second, "the parse failures logged", func() bool { return strings.Count(e.log.String(), "failed to parse") == 2 })
	logs := e.log.String()
	for _, f := range []string{"4930123456789", "Erika"} {
		if strings.Contains(logs, f) {
			t.Errorf("the log contains %q:\n%s", f, logs)
		}
	}
}
