package dialin

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// refusals are the "call refused" lines of a log.
func refusals(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `msg="call refused"`) {
			out = append(out, l)
		}
	}
	return out
}

// TestRefusedCallsAreLogged: every way a call is turned away leaves one
// "call refused" line with the source address and the reason, for
// fail2ban-style monitoring, and never the calling number or the PIN.
func TestRefusedCallsAreLogged(t *testing.T) {
	t.Parallel()
	elsewhere := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	const pin, wrong = "24680", "13579"
	for _, tc := range []struct {
		name   string
		cfg    func(*Config)
		opts   dialOpts
		reason string
		call   func(e *env, p *phone) // after the call was answered
	}{
		{"not from the trunk", func(c *Config) { c.Trunks = elsewhere }, dialOpts{From: testNumber}, "source not allowed", nil},
		{"wrong credentials", func(c *Config) { c.Trunks, c.Username, c.Password = elsewhere, "trunk", "s3cret-password" },
			dialOpts{From: testNumber, Username: "trunk", Password: "nope-nope-nope"}, "wrong credentials", nil},
		{"wrong PIN after the tries", func(c *Config) { c.PINTries = 2 }, dialOpts{From: testNumber}, "wrong PIN", func(e *env, p *phone) {
			p.digits4733(wrong + "#")
			p.waitPrompt("en", promptWrongPIN)
			p.digits4733(wrong + "#")
			p.waitBye(10 * time.Second)
		}},
		{"rate limited", func(c *Config) {
			c.PINTries = 1
			c.CallerLimit = RateLimit{Burst: 1, Every: time.Hour}
		}, dialOpts{From: testNumber}, "no PIN attempts left", func(e *env, p *phone) {
			p.digits4733(wrong + "#")
			p.waitBye(10 * time.Second)
			// The number has no PIN check left: its next call is refused.
			if _, err := dial(e.t, e.gw, dialOpts{From: testNumber}); statusOf(err) != 403 {
				e.t.Fatalf("second call: %v, want 403", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.cfg)
			e.meeting("refusals", pin, true)
			p, err := dial(t, e.gw, tc.opts)
			if tc.call == nil {
				if err == nil {
					t.Fatal("the call was answered")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				tc.call(e, p)
			}
			var lines []string
			eventually(t, 5*time.Second, "a call refused line", func() bool {
				lines = refusals(e.log.String())
				for _, l := range lines {
					if strings.Contains(l, tc.reason) {
						return true
					}
				}
				return false
			})
			for _, l := range lines {
				if !strings.Contains(l, "source=127.0.0.1") {
					t.Errorf("no source address: %s", l)
				}
				for _, secret := range []string{testNumber, strings.TrimPrefix(testNumber, "+"), "6789", pin, wrong} {
					if strings.Contains(l, secret) {
						t.Errorf("the refusal line has %q: %s", secret, l)
					}
				}
			}
		})
	}
}
