package dialin

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Config configures the gateway. Zero values take the defaults noted.
type Config struct {
	// Addr is where SIP is served over UDP and TCP ("127.0.0.1:5060"; port
	// 0 picks a free one, see Gateway.Addr).
	Addr string
	// TLSAddr serves SIP over TLS (sips) when TLS is set too.
	TLSAddr string
	TLS     *tls.Config
	// Trunks are the source networks of the operator's SIP trunk; calls
	// from there need no authentication. When both Trunks and Username are
	// empty only loopback may call.
	Trunks []netip.Prefix
	// Username and Password, when set, let callers from outside Trunks in
	// with SIP digest authentication (RFC 8760 MD5/SHA-256 as the peer picks).
	Username string
	Password string
	// Realm of the digest challenge ("aula").
	Realm string
	// Language of the prompts: "en" (default) or "de".
	Language string
	// RTPAddr is the local address RTP sockets bind to (default: the host of
	// Addr, or all interfaces if that is unspecified).
	RTPAddr netip.Addr
	// PublicIP is announced in Contact and SDP (NAT 1:1); default the host
	// of Addr, which then must be a specific address.
	PublicIP netip.Addr
	// RTPPortMin and RTPPortMax bound the RTP ports (20000-29999); one even
	// port per call.
	RTPPortMin, RTPPortMax int
	// RTPTimeout ends a call whose caller sent no RTP for this long (30s).
	RTPTimeout time.Duration
	// PINTimeout is how long the caller may take for the PIN and between
	// digits before the attempt counts as failed (10s).
	PINTimeout time.Duration
	// PINTries is how many wrong PINs a call may enter before it is hung
	// up (3).
	PINTries int
	// PINAnswerTime is the fixed time every PIN check takes, found or not,
	// so the answer's timing tells nothing about the store (300ms).
	PINAnswerTime time.Duration
	// CallerLimit is the PIN check budget of one calling number (keyed
	// hash): 6, then one per 10 minutes. Every check spends a token before
	// the lookup; a right PIN gives it back, so only wrong PINs use it up.
	CallerLimit RateLimit
	// SourceLimit is the PIN check budget of one source address, spent and
	// given back like CallerLimit. A trunk's address is shared by all its
	// callers, so it is generous: 60, then one per 5s.
	SourceLimit RateLimit
	// FreshLimit is a reserve, one bucket for the whole gateway, for callers
	// whose number has no failed check yet once their source's budget is
	// used up, so an honest caller behind an attacked trunk still gets in:
	// 6, then one per 10s. A number uses it at most once (its first failure
	// makes it no longer fresh); withheld numbers never use it.
	FreshLimit RateLimit
	// FreshWait is how long a check may queue for the reserve to refill
	// before it is refused (20s): under attack an honest caller is slowed,
	// not turned away at once.
	FreshWait time.Duration
	// MaxCalls is the most concurrent calls (200).
	MaxCalls int
	// PendingPerSource is the most calls from one source address that have
	// not yet entered a right PIN (20); MaxPending is the most of them in
	// total (100). Further INVITEs get 486 Busy Here with Retry-After.
	PendingPerSource, MaxPending int
	// ConnMessageTimeout bounds SIP over TCP and TLS: a message (and a new
	// connection's TLS handshake and first message) must arrive whole
	// within this long of its first byte, and a write must finish within it
	// (10s). Trickling bytes does not extend it.
	ConnMessageTimeout time.Duration
	// ConnIdleTimeout closes a TCP or TLS connection that carries no call
	// and brought no SIP message for this long (2m).
	ConnIdleTimeout time.Duration
	// MaxConnsPerSource and MaxConns cap the TCP and TLS connections from
	// one source address (32) and in total (256); more are closed at once.
	MaxConnsPerSource, MaxConns int
	// Now is the clock of the rate limiters.
	Now func() time.Time
	// Logger receives the gateway's log, including sipgo's.
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.Realm == "" {
		c.Realm = "aula"
	}
	if c.Language == "" {
		c.Language = "en"
	}
	if c.RTPPortMin == 0 && c.RTPPortMax == 0 {
		c.RTPPortMin, c.RTPPortMax = 20000, 29999
	}
	if c.RTPTimeout == 0 {
		c.RTPTimeout = 30 * time.Second
	}
	if c.PINTimeout == 0 {
		c.PINTimeout = 10 * time.Second
	}
	if c.PINTries == 0 {
		c.PINTries = 3
	}
	if c.PINAnswerTime == 0 {
		c.PINAnswerTime = 300 * time.Millisecond
	}
	if c.CallerLimit == (RateLimit{}) {
		c.CallerLimit = RateLimit{Burst: 6, Every: 10 * time.Minute}
	}
	if c.SourceLimit == (RateLimit{}) {
		c.SourceLimit = RateLimit{Burst: 60, Every: 5 * time.Second}
	}
	if c.FreshLimit == (RateLimit{}) {
		c.FreshLimit = RateLimit{Burst: 6, Every: 10 * time.Second}
	}
	if c.FreshWait == 0 {
		c.FreshWait = 20 * time.Second
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = 200
	}
	if c.PendingPerSource == 0 {
		c.PendingPerSource = 20
	}
	if c.MaxPending == 0 {
		c.MaxPending = 100
	}
	if c.ConnMessageTimeout == 0 {
		c.ConnMessageTimeout = 10 * time.Second
	}
	if c.ConnIdleTimeout == 0 {
		c.ConnIdleTimeout = 2 * time.Minute
	}
	if c.MaxConnsPerSource == 0 {
		c.MaxConnsPerSource = 32
	}
	if c.MaxConns == 0 {
		c.MaxConns = 256
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate checks the configuration (after defaults).
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("%w: SIP address %q: %v", ErrConfig, c.Addr, err)
	}
	if c.TLS != nil {
		if _, _, err := net.SplitHostPort(c.TLSAddr); err != nil {
			return fmt.Errorf("%w: SIP TLS address %q: %v", ErrConfig, c.TLSAddr, err)
		}
	}
	if host, _, _ := net.SplitHostPort(c.Addr); !c.PublicIP.IsValid() {
		// Contact and SDP must name an address the trunk can reach.
		if a, err := netip.ParseAddr(host); host == "" || (err == nil && a.IsUnspecified()) {
			return fmt.Errorf("%w: SIP listens on all interfaces (%q); set the public IP to announce", ErrConfig, c.Addr)
		}
	}
	if !slices.Contains(Languages, c.Language) {
		return fmt.Errorf("%w: language %q (want one of %v)", ErrConfig, c.Language, Languages)
	}
	if (c.Username == "") != (c.Password == "") {
		return fmt.Errorf("%w: SIP username and password go together", ErrConfig)
	}
	if c.RTPPortMin < 1024 || c.RTPPortMax > 65535 || c.RTPPortMax-c.RTPPortMin < 1 {
		return fmt.Errorf("%w: RTP port range %d-%d", ErrConfig, c.RTPPortMin, c.RTPPortMax)
	}
	if c.RTPTimeout < 0 || c.PINTimeout < 0 || c.PINTries < 0 || c.PINAnswerTime < 0 || c.MaxCalls < 0 ||
		c.FreshWait < 0 || c.PendingPerSource < 0 || c.MaxPending < 0 {
		return fmt.Errorf("%w: negative timeout or count", ErrConfig)
	}
	// Every stream connection must have a timeout and a cap: none may be
	// switched off.
	if c.ConnMessageTimeout <= 0 || c.ConnIdleTimeout <= 0 || c.MaxConnsPerSource < 1 || c.MaxConns < 1 {
		return fmt.Errorf("%w: SIP connection timeouts and caps must be positive", ErrConfig)
	}
	if c.CallerLimit.Burst < 1 || c.SourceLimit.Burst < 1 || c.FreshLimit.Burst < 1 {
		return fmt.Errorf("%w: rate limit burst must be at least 1", ErrConfig)
	}
	// A budget that never refills would lock a trunk out for good.
	if c.CallerLimit.Every <= 0 || c.SourceLimit.Every <= 0 || c.FreshLimit.Every <= 0 {
		return fmt.Errorf("%w: rate limit refill interval must be positive", ErrConfig)
	}
	return nil
}
