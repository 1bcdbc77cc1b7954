package logs

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Criteria select a data subject's entries. The identifiers (UserID,
// Name, IP, Phone) name a person: an entry matches if it carries any of
// them. Meeting and the time window narrow: an entry must lie inside
// them. Without identifiers, the narrowing criteria alone select (all of
// a meeting, all of a day).
type Criteria struct {
	// UserID is the platform's userID as given at join (exact).
	UserID string `json:"user_id,omitempty"`
	// Name is a display name (exact, ignoring case and surrounding space).
	Name string `json:"name,omitempty"`
	// IP is an address, matched exactly against full addresses (join
	// lines, SIP sources); truncated access-log addresses name a network,
	// not a person, and are not matched.
	IP string `json:"ip,omitempty"`
	// Phone is a calling number in any notation: its digits must equal
	// the logged number's, or one must end with the other (at least 7
	// digits), so +49 30 1234567 finds 0301234567.
	Phone string `json:"phone,omitempty"`
	// Meeting is an incarnation key or the platform's meetingID (then
	// every incarnation of it), breakouts included.
	Meeting string `json:"meeting,omitempty"`
	// From and To bound the entries' time: From ≤ t < To; zero: open.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// Kinds names the criteria given, never their values: what an audit line
// may say about a request.
func (c Criteria) Kinds() string {
	var k []string
	for _, x := range []struct {
		name string
		set  bool
	}{{"user_id", c.UserID != ""}, {"name", c.Name != ""}, {"ip", c.IP != ""}, {"phone", c.Phone != ""},
		{"meeting", c.Meeting != ""}, {"from", !c.From.IsZero()}, {"to", !c.To.IsZero()}} {
		if x.set {
			k = append(k, x.name)
		}
	}
	return strings.Join(k, ",")
}

// identifies reports whether the criteria name a person.
func (c Criteria) identifies() bool {
	return c.UserID != "" || c.Name != "" || c.IP != "" || c.Phone != ""
}

// Validate checks the criteria: at least one, each well-formed.
func (c Criteria) Validate() error {
	if c.Kinds() == "" {
		return ErrNoCriteria
	}
	if c.IP != "" {
		if _, err := netip.ParseAddr(strings.TrimSpace(c.IP)); err != nil {
			return fmt.Errorf("%w: -ip %q is not an IP address", ErrCriteria, c.IP)
		}
	}
	if c.Phone != "" && len(digits(c.Phone)) < 4 {
		return fmt.Errorf("%w: -phone %q has fewer than 4 digits", ErrCriteria, c.Phone)
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.To.After(c.From) {
		return fmt.Errorf("%w: -to must be after -from", ErrCriteria)
	}
	return nil
}

// ParseTime reads a -from/-to value: RFC 3339 ("2026-03-01T08:00:00Z"),
// or a date (UTC), which for -to means the end of that day.
func ParseTime(s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(dayLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is neither a date (2006-01-02) nor a time (2006-01-02T15:04:05Z)", ErrCriteria, s)
	}
	if end {
		d = d.Add(24 * time.Hour)
	}
	return d, nil
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// samePhone compares two numbers by their digits without leading zeros
// (00 49 … and 0 30 … against 49 30 …).
func samePhone(a, b string) bool {
	a, b = strings.TrimLeft(digits(a), "0"), strings.TrimLeft(digits(b), "0")
	if a == "" || b == "" {
		return false
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	return a == b || (len(b) >= 7 && strings.HasSuffix(a, b))
}

func sameAddr(logged, want string) bool {
	w, err := netip.ParseAddr(strings.TrimSpace(want))
	if err != nil || logged == "" {
		return false
	}
	if a, err := netip.ParseAddr(logged); err == nil {
		return a.Unmap() == w.Unmap()
	}
	if ap, err := netip.ParseAddrPort(logged); err == nil {
		return ap.Addr().Unmap() == w.Unmap()
	}
	return false
}

// names reports whether the entry itself carries one of the identifiers.
// A malformed line names the person when its text contains one of them.
func (c Criteria) names(e *Entry) bool {
	if !e.OK {
		return c.rawNames(e.Raw)
	}
	switch {
	case c.UserID != "" && e.UserID == c.UserID:
	case c.Name != "" && e.Name != "" && strings.EqualFold(strings.TrimSpace(e.Name), strings.TrimSpace(c.Name)):
	case c.IP != "" && (sameAddr(e.IP, c.IP) || sameAddr(e.Source, c.IP)):
	case c.Phone != "" && e.From != "" && samePhone(e.From, c.Phone):
	default:
		return false
	}
	return true
}

func (c Criteria) rawNames(raw []byte) bool {
	for _, v := range []string{c.UserID, c.Name, c.IP, digits(c.Phone)} {
		if v = strings.TrimSpace(v); v != "" && bytes.Contains(bytes.ToLower(raw), bytes.ToLower([]byte(v))) {
			return true
		}
	}
	return false
}

// inWindow applies From and To.
func (c Criteria) inWindow(t time.Time) bool {
	return (c.From.IsZero() || !t.Before(c.From)) && (c.To.IsZero() || t.Before(c.To))
}

// selector applies criteria with what the index knows: a person's
// entries are the entries naming them, plus every entry of the same
// participant in the same conference (a join line names the person,
// the participant's later lines only carry its ID) and of the same
// dial-in call (the "incoming call" line carries the number, the call's
// later lines its ID).
type selector struct {
	c     Criteria
	ix    *index
	keys  map[string]bool // conferences in scope when c.Meeting is set
	pairs map[pair]bool
	calls map[string]bool
}

func newSelector(c Criteria) *selector {
	return &selector{c: c, pairs: map[pair]bool{}, calls: map[string]bool{}}
}

// observe is called for every entry of the index pass.
func (s *selector) observe(e *Entry) {
	if !s.c.identifies() || !e.OK || !s.c.names(e) {
		return
	}
	if e.Call != "" {
		s.calls[e.Call] = true
	}
	if e.Meeting != "" && e.Participant != "" {
		s.pairs[pair{e.Meeting, e.Participant}] = true
	}
}

// finish closes the sets over calls and participants once the index is
// complete.
func (s *selector) finish(ix *index) {
	s.ix = ix
	if s.c.Meeting != "" {
		s.keys = ix.keysOf(s.c.Meeting)
	}
	for changed := true; changed; {
		changed = false
		for call := range s.calls {
			for p := range ix.callPairs[call] {
				if !s.pairs[p] {
					s.pairs[p], changed = true, true
				}
			}
		}
		for p := range s.pairs {
			for call := range ix.pairCalls[p] {
				if !s.calls[call] {
					s.calls[call], changed = true, true
				}
			}
		}
	}
}

// selects decides an entry of the second pass.
func (s *selector) selects(e *Entry) bool {
	if !s.c.inWindow(e.Time) {
		return false
	}
	conf := s.ix.conferenceOf(e)
	if s.c.Meeting != "" {
		if e.OK && !s.keys[conf] {
			return false
		}
		if !e.OK && !bytes.Contains(e.Raw, []byte(strings.TrimSpace(s.c.Meeting))) {
			return false
		}
	}
	if !s.c.identifies() {
		return true
	}
	if s.c.names(e) {
		return true
	}
	if e.Call != "" && s.calls[e.Call] {
		return true
	}
	return conf != "" && e.Participant != "" && s.pairs[pair{conf, e.Participant}]
}
