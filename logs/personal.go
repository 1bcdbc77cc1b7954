package logs

import (
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
)

// Personal are the attribute keys whose values are personal data. They
// are written to the day files of the log directory only, where retention
// and data-subject requests reach them; stderr (journald under systemd,
// outside Aula's retention) never carries them, with or without a log
// directory. Every log call in
// Aula that carries personal data uses one of these keys; a test greps
// the packages for calls that do not.
var Personal = map[string]bool{
	"ip":          true, // a client's address (full on join lines, truncated on access lines)
	"source":      true, // a SIP peer's address
	"user_agent":  true, // browser and operating system
	"name":        true, // a participant's display name
	"user_id":     true, // the course platform's user ID
	"from":        true, // a caller's full phone number
	"sip_call_id": true, // the SIP Call-ID, which often names the caller's host
	"meeting_id":  true, // the platform's meetingID, which may name a person or a course
}

// errorKeys hold error texts. Errors of libraries (Pion, sipgo, net) may
// quote a peer's address, so on stderr addresses are masked in them and
// in messages; the day files keep them.
var errorKeys = map[string]bool{"err": true, "error": true, "reason": true}

// Redacted stands for a masked address on stderr.
const Redacted = "[addr]"

// stderrAttr is the ReplaceAttr of the stderr handler, with or without a
// log directory: it drops personal attributes and masks addresses in
// messages and error texts.
func stderrAttr(groups []string, a slog.Attr) slog.Attr {
	if Personal[a.Key] {
		return slog.Attr{}
	}
	switch {
	case len(groups) == 0 && a.Key == slog.MessageKey:
		return slog.String(a.Key, MaskAddrs(a.Value.String()))
	case errorKeys[a.Key]:
		return slog.String(a.Key, MaskAddrs(a.Value.String()))
	}
	if err, ok := a.Value.Any().(error); ok && a.Value.Kind() == slog.KindAny {
		return slog.String(a.Key, MaskAddrs(err.Error()))
	}
	return a
}

// addrLike finds candidates for IP addresses: dotted quads, and runs of
// hex digits and colons with at least two colons (IPv6, possibly with a
// zone or an embedded IPv4 tail). Each candidate is checked with netip.
var addrLike = regexp.MustCompile(`[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*|\b\d{1,3}(?:\.\d{1,3}){3}\b`)

// MaskAddrs replaces every IP address in s by Redacted (ports stay:
// "dial udp [addr]:5060").
func MaskAddrs(s string) string {
	if !strings.ContainsAny(s, ".:") {
		return s
	}
	return addrLike.ReplaceAllStringFunc(s, func(m string) string {
		if _, err := netip.ParseAddr(m); err == nil {
			return Redacted
		}
		// "[2001:db8::1]:5060" matched without brackets, or an IPv6
		// address followed by ":port" in a Go error: try without the
		// last component.
		if i := strings.LastIndexByte(m, ':'); i > 0 {
			if _, err := netip.ParseAddr(m[:i]); err == nil && strings.Count(m[:i], ":") >= 2 {
				return Redacted + m[i:]
			}
		}
		return m
	})
}
