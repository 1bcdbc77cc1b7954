package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"aula/dialin"
	"aula/sfu"
	"aula/signaling"
)

// startDialin starts the SIP gateway when AULA_SIP_ADDR is set. Callers
// join the SFU as local peers under the same policy as browsers, so
// "participants cannot see each other" holds for them too.
func (a *App) startDialin() error {
	if a.cfg.SIPAddr == "" {
		return nil
	}
	dc, err := a.cfg.dialinConfig()
	if err != nil {
		return err
	}
	gw, err := dialin.New(dc, a.mgr, a.callerMedia, a.log)
	if err != nil {
		return fmt.Errorf("dial-in (AULA_SIP_*): %w", err)
	}
	if err := gw.Start(context.Background()); err != nil {
		gw.Close()
		return fmt.Errorf("dial-in: %w", err)
	}
	a.gw = gw
	return nil
}

// closeDialin hangs up every call (BYE) and stops the gateway.
func (a *App) closeDialin() error {
	if a.gw == nil {
		return nil
	}
	return a.gw.Close()
}

// SIPAddr is where the SIP gateway answers (UDP and TCP); invalid when
// dial-in is off.
func (a *App) SIPAddr() netip.AddrPort {
	if a.gw == nil {
		return netip.AddrPort{}
	}
	return a.gw.Addr()
}

// SIPTLSAddr is the SIP-over-TLS listener's address, or nil.
func (a *App) SIPTLSAddr() net.Addr {
	if a.gw == nil {
		return nil
	}
	return a.gw.TLSAddr()
}

// callerMedia is the gateway's MediaFactory: the caller becomes a local
// peer of the meeting's SFU room (no WebRTC), hearing and heard under the
// browsers' policy.
func (a *App) callerMedia(key, participantID string) (dialin.Media, error) {
	pol, err := a.mgr.MediaPolicy(key)
	if err != nil {
		return nil, fmt.Errorf("caller media: %w", err)
	}
	// The SFU room exists while the meeting runs here; after its end it
	// is closed for good and JoinLocal fails.
	r, err := a.sfu.Room(key)
	if err != nil {
		return nil, fmt.Errorf("caller media: %w", err)
	}
	lp, err := r.JoinLocal(participantID, signaling.SFUPolicy(pol))
	if err != nil {
		return nil, fmt.Errorf("caller media: %w", err)
	}
	return callerPeer{lp}, nil
}

// callerPeer is an sfu.LocalPeer as dialin.Media, and a dialin.Muter: a
// moderator's mute (or the caller's own key 0) stops the SFU forwarding
// the caller's microphone, as for a browser.
type callerPeer struct{ *sfu.LocalPeer }

func (c callerPeer) SetMuted(muted bool) {
	if muted {
		c.StopForwarding(sfu.KindMic)
	} else {
		c.ResumeForwarding(sfu.KindMic)
	}
}

var _ dialin.Muter = callerPeer{}

// dialinConfig turns the AULA_SIP_* settings into the gateway's
// configuration (Validate has checked them).
func (c *Config) dialinConfig() (dialin.Config, error) {
	dc := dialin.Config{
		Addr:     c.SIPAddr,
		Username: c.SIPUser,
		Password: c.SIPPassword,
		Language: c.SIPLanguage,
	}
	var err error
	if dc.Trunks, err = parseTrunks(c.SIPTrunks); err != nil {
		return dc, fmt.Errorf("AULA_SIP_TRUNKS: %w", err)
	}
	if c.SIPPublicIP != "" {
		if dc.PublicIP, err = netip.ParseAddr(c.SIPPublicIP); err != nil {
			return dc, fmt.Errorf("AULA_SIP_PUBLIC_IP: %w", err)
		}
	}
	if dc.RTPPortMin, dc.RTPPortMax, err = parsePortRange(c.SIPRTPPorts); err != nil {
		return dc, fmt.Errorf("AULA_SIP_RTP_PORTS: %w", err)
	}
	if c.SIPTLSAddr != "" {
		cert, err := tls.LoadX509KeyPair(c.SIPTLSCert, c.SIPTLSKey)
		if err != nil {
			return dc, fmt.Errorf("AULA_SIP_TLS_CERT / AULA_SIP_TLS_KEY: %w", err)
		}
		dc.TLSAddr = c.SIPTLSAddr
		dc.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return dc, nil
}

// validateSIP checks the dial-in settings; bad names the one at fault.
func (c *Config) validateSIP(bad func(name, format string, a ...any)) {
	if c.SIPAddr == "" {
		return
	}
	host, _, err := net.SplitHostPort(c.SIPAddr)
	if err != nil {
		return // sip-addr itself is reported by Validate
	}
	if _, err := parseTrunks(c.SIPTrunks); err != nil {
		bad("sip-trunks", "%v", err)
	}
	if (c.SIPUser == "") != (c.SIPPassword == "") {
		bad("sip-user", "AULA_SIP_USER and AULA_SIP_PASSWORD go together")
	}
	if c.SIPPassword != "" && len(c.SIPPassword) < 12 {
		bad("sip-password", "must be at least 12 characters")
	}
	if !slices.Contains(dialin.Languages, c.SIPLanguage) {
		bad("sip-language", "%q is not one of %s", c.SIPLanguage, strings.Join(dialin.Languages, ", "))
	}
	if c.SIPPublicIP != "" {
		if ip, err := netip.ParseAddr(c.SIPPublicIP); err != nil || ip.IsUnspecified() {
			bad("sip-public-ip", "%q is not an IP address", c.SIPPublicIP)
		}
	} else if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		// The gateway announces its address in Contact and SDP: listening
		// everywhere, it must be told which one the trunk reaches.
		bad("sip-public-ip", "must be set when AULA_SIP_ADDR listens on all interfaces (%q)", c.SIPAddr)
	}
	if _, _, err := parsePortRange(c.SIPRTPPorts); err != nil {
		bad("sip-rtp-ports", "%v", err)
	}
	tlsSet := c.SIPTLSAddr != "" || c.SIPTLSCert != "" || c.SIPTLSKey != ""
	if tlsSet {
		if _, _, err := net.SplitHostPort(c.SIPTLSAddr); err != nil {
			bad("sip-tls-addr", "%q is not host:port (TLS needs AULA_SIP_TLS_ADDR, AULA_SIP_TLS_CERT and AULA_SIP_TLS_KEY)", c.SIPTLSAddr)
		}
		if c.SIPTLSCert == "" {
			bad("sip-tls-cert", "must name the certificate file (PEM) when SIP over TLS is configured")
		}
		if c.SIPTLSKey == "" {
			bad("sip-tls-key", "must name the key file (PEM) when SIP over TLS is configured")
		}
	}
}

// parseTrunks reads comma-separated CIDRs or single addresses.
func parseTrunks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network (CIDR like 192.0.2.0/24) or an IP address", f)
		}
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// parsePortRange reads "20000-20999"; empty gives the gateway's default.
func parsePortRange(s string) (lo, hi int, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || hi <= lo {
		return 0, 0, fmt.Errorf("%q must be a range like 20000-20999 within 1024-65535", s)
	}
	return lo, hi, nil
}

// dialinCollector reads the gateway's counters at scrape time. No label
// carries a number, a PIN or a meeting.
type dialinCollector struct {
	gw                                 *dialin.Gateway
	calls, accepted, refused, failures *prometheus.Desc
	checks, limited, queued            *prometheus.Desc
	conns, connsRefused, connsTimedOut *prometheus.Desc
}

func registerDialinMetrics(reg *prometheus.Registry, gw *dialin.Gateway) {
	if gw == nil {
		return
	}
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	reg.MustRegister(&dialinCollector{gw: gw,
		calls:         d("aula_dialin_calls", "Phone calls in progress."),
		accepted:      d("aula_dialin_calls_accepted_total", "Phone calls answered."),
		refused:       d("aula_dialin_calls_refused_total", "Incoming calls refused (not an allowed trunk, wrong credentials, rate limited, no common codec or audio, busy, too many calls entering a PIN, another SIP version)."),
		failures:      d("aula_dialin_pin_failures_total", "Wrong PIN entries."),
		checks:        d("aula_dialin_pin_checks_total", "PIN entries checked (their budget paid)."),
		limited:       d("aula_dialin_pin_limited_total", "PIN entries refused unchecked because the caller's, the source's and the new numbers' budgets were spent."),
		queued:        d("aula_dialin_pin_queued", "PIN checks waiting for the reserve for new numbers."),
		conns:         d("aula_dialin_sip_connections", "Open SIP connections over TCP and TLS."),
		connsRefused:  d("aula_dialin_sip_connections_refused_total", "SIP TCP/TLS connections closed at once for being over a cap."),
		connsTimedOut: d("aula_dialin_sip_connections_timed_out_total", "SIP TCP/TLS connections closed for a timeout (a message not whole in time, or idle)."),
	})
}

func (c *dialinCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.calls, c.accepted, c.refused, c.failures, c.checks, c.limited, c.queued, c.conns, c.connsRefused, c.connsTimedOut} {
		ch <- d
	}
}

func (c *dialinCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.gw.Stats()
	ch <- prometheus.MustNewConstMetric(c.calls, prometheus.GaugeValue, float64(st.Calls))
	ch <- prometheus.MustNewConstMetric(c.accepted, prometheus.CounterValue, float64(st.Accepted))
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(st.Refused))
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(st.PINFailures))
	ch <- prometheus.MustNewConstMetric(c.checks, prometheus.CounterValue, float64(st.PINChecks))
	ch <- prometheus.MustNewConstMetric(c.limited, prometheus.CounterValue, float64(st.PINLimited))
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(st.PINQueued))
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(st.Conns))
	ch <- prometheus.MustNewConstMetric(c.connsRefused, prometheus.CounterValue, float64(st.ConnsRefused))
	ch <- prometheus.MustNewConstMetric(c.connsTimedOut, prometheus.CounterValue, float64(st.ConnsTimedOut))
}
