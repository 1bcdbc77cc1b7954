package dialin

import (
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func TestAdmission(t *testing.T) {
	t.Parallel()
	elsewhere := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	cases := []struct {
		name   string
		cfg    func(*Config)
		opts   dialOpts
		status int // 0: answered
	}{
		{"loopback by default", nil, dialOpts{From: testNumber}, 0},
		{"not from the trunk", func(c *Config) { c.Trunks = elsewhere }, dialOpts{From: testNumber}, 403},
		{"digest without credentials", func(c *Config) { c.Trunks, c.Username, c.Password = elsewhere, "trunk", "s3cret" }, dialOpts{From: testNumber}, 401},
		{"digest wrong password", func(c *Config) { c.Trunks, c.Username, c.Password = elsewhere, "trunk", "s3cret" }, dialOpts{From: testNumber, Username: "trunk", Password: "nope"}, 401},
		{"digest right", func(c *Config) { c.Trunks, c.Username, c.Password = elsewhere, "trunk", "s3cret" }, dialOpts{From: testNumber, Username: "trunk", Password: "s3cret"}, 0},
		{"no common codec", nil, dialOpts{From: testNumber, Codecs: "9 101"}, 488},
		{"over TCP", nil, dialOpts{From: testNumber, Transport: "tcp"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.cfg)
			p, err := dial(t, e.gw, tc.opts)
			if got := statusOf(err); got != tc.status || (tc.status == 0 && err != nil) {
				t.Fatalf("status = %d (err %v), want %d", got, err, tc.status)
			}
			if tc.status != 0 {
				if e.gw.Calls() != 0 {
					t.Errorf("a refused call is counted")
				}
				return
			}
			p.waitPrompt("en", promptWelcome)
			p.hangup()
			eventually(t, 5*time.Second, "call gone", func() bool { return e.gw.Calls() == 0 })
		})
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ua, _ := sipgo.NewUA()
	defer ua.Close()
	c, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Host: "127.0.0.1", Port: int(e.gw.Addr().Port())})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.GetHeader("Allow") == nil {
		t.Errorf("OPTIONS: %v", res)
	}
}

func TestRTPTimeoutHangsUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.RTPTimeout = 300 * time.Millisecond })
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.waitPrompt("en", promptWelcome)
	p.Mute(true)
	p.waitBye(5 * time.Second)
}

func TestPINTimeoutCountsAsTry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.PINTimeout = 200 * time.Millisecond; c.PINTries = 1 })
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	// The caller types nothing: after the welcome and the timeout, goodbye.
	p.waitPrompt("en", promptGoodbye)
	p.waitBye(10 * time.Second)
}

func TestFiveDigitsWithoutHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("nohash", "98765", true)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("98765")
	eventually(t, 5*time.Second, "caller joined", func() bool { return len(e.phones(mt.Key)) == 1 })
}

func TestCloseHangsUpCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.waitPrompt("en", promptWelcome)
	if err := e.gw.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	p.waitBye(5 * time.Second)
	if e.gw.Calls() != 0 {
		t.Errorf("Calls() = %d after Close", e.gw.Calls())
	}
}

func TestConfigValidate(t *testing.T) {
	cases := map[string]func(*Config){
		"bad address":        func(c *Config) { c.Addr = "nope" },
		"unknown language":   func(c *Config) { c.Language = "fr" },
		"user without pass":  func(c *Config) { c.Username = "x" },
		"port range":         func(c *Config) { c.RTPPortMin, c.RTPPortMax = 30000, 20000 },
		"privileged ports":   func(c *Config) { c.RTPPortMin, c.RTPPortMax = 10, 20 },
		"negative timeout":   func(c *Config) { c.RTPTimeout = -time.Second },
		"zero burst":         func(c *Config) { c.CallerLimit = RateLimit{Burst: 0, Every: time.Second} },
		"never refills":      func(c *Config) { c.FreshLimit = RateLimit{Burst: 3} },
		"negative wait":      func(c *Config) { c.FreshWait = -time.Second },
		"negative pending":   func(c *Config) { c.PendingPerSource = -1 },
		"no conn timeout":    func(c *Config) { c.ConnIdleTimeout = -time.Second },
		"no conn cap":        func(c *Config) { c.MaxConns = -1 },
		"tls without listen": func(c *Config) { c.TLS = &tlsConfigStub; c.TLSAddr = "" },
		"all interfaces":     func(c *Config) { c.Addr = ":5060" },
		"unspecified":        func(c *Config) { c.Addr = "0.0.0.0:5060" },
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			c := Config{Addr: "127.0.0.1:0"}
			c.defaults()
			mut(&c)
			if err := c.Validate(); !errors.Is(err, ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
	for _, ok := range []Config{
		{Addr: "127.0.0.1:0", Language: "de"},
		{Addr: "0.0.0.0:5060", PublicIP: netip.MustParseAddr("203.0.113.7")},
	} {
		ok.defaults()
		if err := ok.Validate(); err != nil {
			t.Errorf("valid config %+v: %v", ok, err)
		}
	}
}

var tlsConfigStub = tls.Config{}

// A re-INVITE (hold, session refresh) and an UPDATE keep the call as is.
func TestInDialogRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.Request(ctx, sip.INVITE, "application/sdp", p.Offer())
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	if _, err := ParseSDP(res.Body()); err != nil {
		t.Errorf("re-INVITE answer: %v", err)
	}
	res, err = p.Request(ctx, sip.UPDATE, "", nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("UPDATE: %v %v", res, err)
	}
	if e.gw.Calls() != 1 {
		t.Errorf("Calls() = %d after refresh", e.gw.Calls())
	}
	p.waitPrompt("en", promptWelcome)
}
