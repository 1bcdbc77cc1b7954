package web

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzAuthenticate: any query and body either fail with a checksum or
// parameter error, or verify — and then the checksum really was the
// secret's signature of what was sent.
func FuzzAuthenticate(f *testing.F) {
	q := "meetingID=a%20b&name=x"
	f.Add("create", q+"&checksum="+Sign("sha1", "create", q, testSecret), "")
	f.Add("join", "checksum="+Sign("sha512", "join", "", testSecret), "")
	f.Add("create", "name=y", "meetingID=z&checksum="+Sign("sha256", "create", "name=y&meetingID=z", testSecret))
	f.Add("end", "checksum=zz&checksum=zz", "")
	f.Add("end", "%zz=1&checksum="+Sign("sha1", "end", "%zz=1", testSecret), "")
	f.Add("getMeetings", "", "checksum=")
	f.Fuzz(func(t *testing.T, call, query, body string) {
		p, err := authenticate(call, query, body, testSecret)
		if err != nil {
			if !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrParam) {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		// It verified: the checksum must be the signature of the rest.
		rq, qs, qok, _ := splitChecksum(query)
		rb, bs, _, _ := splitChecksum(body)
		sum := bs
		if qok {
			sum = qs
		}
		signed := rq
		if rb != "" {
			if signed != "" {
				signed += "&"
			}
			signed += rb
		}
		algo := map[int]string{40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}[len(sum)]
		if algo == "" || !strings.EqualFold(Sign(algo, call, signed, testSecret), sum) {
			t.Fatalf("accepted %q %q with checksum %q", query, body, sum)
		}
		if p.v == nil {
			t.Fatal("no parameters")
		}
	})
}

// FuzzParseCreate: create's parameter parsing never panics; what it
// accepts passes the room's own validation; bad input is an ErrParam (or
// a meetingID error).
func FuzzParseCreate(f *testing.F) {
	f.Add("meetingID=abc&name=Room&voiceBridge=12345&duration=5&record=true&meta_x=1")
	f.Add("meetingID=a,b&name=x")
	f.Add("meetingID=abc&name=R&guestPolicy=ALWAYS_DENY&maxParticipants=999999999")
	f.Add("meetingID=abc&name=R&meta_1x=2")
	f.Add("meetingID=abc&name=R&attendeePW=aa&moderatorPW=aa")
	f.Add("meetingID=abc&name=R&logoutURL=https://x.example/&welcome=%%CONFNAME%%")
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		s, err := parseCreate(apiParams{v: v}, "+49 1")
		if err != nil {
			if !errors.Is(err, ErrParam) && !errors.Is(err, ErrMissingMeetingID) && !errors.Is(err, ErrBadMeetingID) {
				t.Fatalf("unexpected error kind %v", err)
			}
			if toAPIError(err).Key == "internalError" {
				t.Fatalf("unmapped error %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parseCreate accepted what the room refuses: %v (%+v)", err, s)
		}
		if s.AttendeePW == "" || s.ModeratorPW == "" || s.AttendeePW == s.ModeratorPW {
			t.Fatalf("passwords %q %q", s.AttendeePW, s.ModeratorPW)
		}
		if _, err := xmlMarshalMeta(s.Meta); err != nil {
			t.Fatalf("metadata cannot be written as XML: %v", err)
		}
	})
}

// FuzzPresentations: the XML body parser never panics, never fetches,
// caps every document and their number, and marks what it cannot use
// with a refusal code instead of failing the call.
func FuzzPresentations(f *testing.F) {
	f.Add([]byte(modules(`<document name="a.pdf">JVBERi0xLjQK</document>`)))
	f.Add([]byte(modules(`<document url="http://127.0.0.1:1/x" current="true"/>`)))
	f.Add([]byte("<modules><module name='presentation'><document name='../../x'>iVBORw0KGgo=</document></module></modules>"))
	f.Add([]byte(modules(`<document name="x">%%%</document>`)))
	f.Fuzz(func(t *testing.T, body []byte) {
		docs, err := parsePresentations(bytes.NewReader(body), 1<<16, 10)
		if err != nil {
			if !errors.Is(err, ErrPresentation) {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		for i, d := range docs {
			switch {
			case d.Refused != "":
				if d.Data != nil || d.URL != "" {
					t.Fatalf("a refused document carries data or a URL: %+v", d)
				}
			case d.URL != "":
				if d.Data != nil {
					t.Fatalf("a URL document with data")
				}
			default:
				if int64(len(d.Data)) > 1<<16 {
					t.Fatalf("document %d of %d bytes passed the cap", i, len(d.Data))
				}
			}
			if i >= 10 && d.Refused == "" {
				t.Fatalf("document %d passed the count cap", i)
			}
			if d.Name == "" {
				t.Fatal("a document without a name")
			}
		}
	})
}

// xmlMarshalMeta writes metadata as getMeetingInfo does and parses it back,
// failing when the result is not well-formed XML.
func xmlMarshalMeta(m map[string]string) ([]byte, error) {
	out, err := xml.Marshal(struct {
		XMLName xml.Name    `xml:"r"`
		M       metadataXML `xml:"metadata"`
	}{M: m})
	if err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(bytes.NewReader(out))
	for {
		if _, err := dec.Token(); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
	}
}

// FuzzAddrGuard: the outbound address guard never panics; an IPv4 address
// and its IPv4-mapped IPv6 form get the same verdict; nothing it lets
// through by default is loopback, private, link-local, multicast or
// unspecified; an address the operator allowed passes. ParseNetworks
// never panics and returns masked networks.
func FuzzAddrGuard(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1}, "10.0.0.0/8", "127.0.0.1:80")
	f.Add(make([]byte, 16), "::1, 192.168.0.1", "[::1]:443")
	f.Add([]byte{0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1}, "::ffff:10.0.0.0/104", "x")
	f.Add([]byte{0x20, 0x02, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "fd00::/8,", "[fe80::1%eth0]:80")
	f.Fuzz(func(t *testing.T, raw []byte, allow, address string) {
		nets, err := ParseNetworks(allow)
		if err == nil {
			for _, p := range nets {
				if p != p.Masked() || !p.IsValid() {
					t.Fatalf("ParseNetworks(%q) returned %v", allow, p)
				}
			}
		}
		_ = newAddrGuard(nets).control("tcp", address, nil)
		ip, ok := netip.AddrFromSlice(raw)
		if !ok {
			return
		}
		def := newAddrGuard(nil)
		verdict := def.check(ip)
		if verdict != nil && !errors.Is(verdict, ErrFetchRefused) {
			t.Fatalf("unexpected error kind %v", verdict)
		}
		u := ip.Unmap()
		if verdict == nil && (u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsMulticast() ||
			u.IsUnspecified() || !u.IsGlobalUnicast()) {
			t.Fatalf("%s allowed by default", ip)
		}
		if u.Is4() {
			mapped := netip.AddrFrom16(u.As16())
			if (def.check(mapped) == nil) != (def.check(u) == nil) {
				t.Fatalf("%s and %s judged apart", u, mapped)
			}
		}
		if err := newAddrGuard([]netip.Prefix{netip.PrefixFrom(u, u.BitLen())}).check(ip); err != nil {
			t.Fatalf("%s refused although allowed: %v", ip, err)
		}
	})
}

// FuzzParseUserData: join's userdata-* parsing never panics; what it
// keeps has XML names and clean values within the caps, and renders as
// well-formed <customdata>; bad input is an ErrParam.
func FuzzParseUserData(f *testing.F) {
	f.Add("userdata-bbb_skip_check_audio=true&userdata-Course=Physik%201")
	f.Add("userdata-x-y=1&userdata-1a=2&userdata-=3&userdatax=4&userdata-xmlns=5")
	f.Add("userdata-a=%07&userdata-b=%C3%A4")
	f.Add("userdata-a.b=%3C%2Fcustomdata%3E&userdata-_=%26")
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		m, err := parseUserData(apiParams{v: v})
		if err != nil {
			if !errors.Is(err, ErrParam) {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		if len(m) > maxUserData {
			t.Fatalf("%d entries", len(m))
		}
		for k, val := range m {
			if !validCustomName(k) || !utf8.ValidString(val) || utf8.RuneCountInString(val) > maxUserDataValue {
				t.Fatalf("kept %q=%q", k, val)
			}
			for _, r := range val {
				if unicode.IsControl(r) {
					t.Fatalf("control character kept in %q", k)
				}
			}
		}
		out, err := xml.Marshal(struct {
			XMLName xml.Name      `xml:"r"`
			C       customDataXML `xml:"customdata"`
		}{C: m})
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			C bbbMeta `xml:"customdata"`
		}
		if err := xml.Unmarshal(out, &back); err != nil || len(back.C.Items) != len(m) {
			t.Fatalf("customdata %s does not read back (%v)", out, err)
		}
		for k, val := range back.C.items() {
			if m[k] != val {
				t.Fatalf("%s: %q became %q", k, m[k], val)
			}
		}
	})
}
