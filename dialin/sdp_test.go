package dialin

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

const trunkOffer = "v=0\r\n" +
	"o=trunk 123 456 IN IP4 192.0.2.10\r\n" +
	"s=call\r\n" +
	"c=IN IP4 192.0.2.10\r\n" +
	"t=0 0\r\n" +
	"m=audio 40000 RTP/AVP 9 8 0 101 13\r\n" +
	"c=IN IP4 192.0.2.20\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-15\r\n" +
	"a=ptime:20\r\n" +
	"a=sendrecv\r\n" +
	"m=video 40002 RTP/AVP 96\r\n" +
	"a=rtpmap:96 H264/90000\r\n"

func TestParseSDP(t *testing.T) {
	o, err := ParseSDP([]byte(trunkOffer))
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != netip.MustParseAddr("192.0.2.20") || o.Port != 40000 || o.Ptime != 20 || o.Direction != "sendrecv" {
		t.Errorf("offer = %+v", o)
	}
	cd, dtmf, err := o.Negotiate()
	if err != nil {
		t.Fatal(err)
	}
	// G.722 is first but not supported; PCMA is the caller's next choice.
	if cd.Name != "PCMA" || cd.PT != 8 {
		t.Errorf("codec = %+v, want PCMA", cd)
	}
	if dtmf == nil || dtmf.PT != 101 || dtmf.Fmtp != "0-15" {
		t.Errorf("dtmf = %+v", dtmf)
	}
}

func TestParseSDPErrors(t *testing.T) {
	cases := map[string]string{
		"empty":          "",
		"no version":     "c=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		"no audio":       "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 1 RTP/AVP 96\r\n",
		"no address":     "v=0\r\nm=audio 1 RTP/AVP 0\r\n",
		"bad address":    "v=0\r\nc=IN IP4 999.1.1.1\r\nm=audio 1 RTP/AVP 0\r\n",
		"bad port":       "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n",
		"bad pt":         "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 300\r\n",
		"bad rtpmap":     "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
		"garbage line":   "v=0\r\nhello\r\n",
		"srtp transport": "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 UDP/TLS/X 0\r\n",
		// Port 0 rejects or disables a stream (RFC 3264 §6, §8.2).
		"audio disabled":            "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n",
		"all audio disabled":        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\nm=audio 0 RTP/AVP 8\r\nm=video 4000 RTP/AVP 96\r\n",
		"media line without format": "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 4000 RTP/AVP\r\nm=audio 1 RTP/AVP 0\r\n",
		"too many media lines":      "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n" + strings.Repeat("m=video 0 RTP/AVP 96\r\n", maxMediaLines),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSDP([]byte(body)); !errors.Is(err, ErrBadSDP) {
				t.Errorf("err = %v, want ErrBadSDP", err)
			}
		})
	}
	if _, err := ParseSDP([]byte("v=0\r\n" + strings.Repeat("a=x\r\n", maxSDP))); !errors.Is(err, ErrBadSDP) {
		t.Errorf("oversized body: err = %v", err)
	}
}

func TestNegotiateNoCommonCodec(t *testing.T) {
	o, err := ParseSDP([]byte("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 9 18 101\r\na=rtpmap:101 telephone-event/8000\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = o.Negotiate()
	if !errors.Is(err, ErrNoCodec) {
		t.Errorf("err = %v, want ErrNoCodec", err)
	}
	if code, _ := sipStatus(err); code != 488 {
		t.Errorf("status = %d, want 488", code)
	}
}

func TestAnswerRoundTrip(t *testing.T) {
	dtmf := &Format{PT: 101, Name: "TELEPHONE-EVENT", Rate: 8000}
	for _, tc := range []struct {
		dir, want string
		dtmf      *Format
	}{
		{"sendrecv", "sendrecv", dtmf},
		{"sendonly", "recvonly", nil},
		{"recvonly", "sendonly", dtmf},
	} {
		b := answerSDP(netip.MustParseAddr("10.0.0.1"), 20000, 7, Format{PT: 0, Name: "PCMU", Rate: 8000, Channels: 1}, tc.dtmf, tc.dir, nil, 0)
		o, err := ParseSDP(b)
		if err != nil {
			t.Fatalf("our own answer does not parse: %v\n%s", err, b)
		}
		cd, d, err := o.Negotiate()
		if err != nil || cd.Name != "PCMU" || (d != nil) != (tc.dtmf != nil) || o.Direction != tc.want || o.Port != 20000 {
			t.Errorf("answer %q: %+v %+v %v", tc.dir, o, d, err)
		}
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add([]byte(trunkOffer))
	f.Add([]byte("v=0\nc=IN IP6 ::1\nm=audio 0 RTP/AVP 0\n"))
	f.Add([]byte("v=0\r\nm=audio 1 RTP/AVP 101\r\na=rtpmap:101 x/0/9\r\n"))
	f.Add([]byte("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\nm=audio 5000 RTP/AVP 8\r\n"))
	f.Add([]byte("v=0\r\nm=video 0 RTP/AVP 96\r\nc=IN IP4 1.2.3.4\r\nm=audio 5000 RTP/AVP 8\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := ParseSDP(b)
		if err != nil {
			if !errors.Is(err, ErrBadSDP) {
				t.Fatalf("error %v is not ErrBadSDP", err)
			}
			return
		}
		// Port 0 is a disabled stream: never one to send audio to.
		if !o.Addr.IsValid() || o.Port < 1 || o.Port > 65535 {
			t.Fatalf("accepted offer with bad address: %+v", o)
		}
		if cd, _, err := o.Negotiate(); err == nil && cd.Name != "PCMU" && cd.Name != "PCMA" {
			t.Fatalf("negotiated %q", cd.Name)
		}
	})
}

// A disabled first audio stream is skipped for the next enabled one, and
// the answer has one m= line per offered line, the unused ones rejected
// with port 0 (RFC 3264 §6), so the trunk pairs them up right.
func TestDisabledStreamSkippedAndAnswered(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=video 4000 RTP/AVP 96\r\nc=IN IP4 192.0.2.9\r\na=sendonly\r\n" +
		"m=audio 0 RTP/AVP 0\r\n" +
		"m=audio 5000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	o, err := ParseSDP([]byte(offer))
	if err != nil {
		t.Fatal(err)
	}
	// The session-level address and direction, not the video stream's.
	if o.Port != 5000 || o.Addr != netip.MustParseAddr("192.0.2.1") || o.Direction != "sendrecv" || o.Stream != 2 || len(o.Media) != 3 {
		t.Fatalf("offer = %+v", o)
	}
	cd, dtmf, err := o.Negotiate()
	if err != nil || cd.Name != "PCMA" || dtmf == nil {
		t.Fatalf("negotiate: %+v %+v %v", cd, dtmf, err)
	}
	ans := string(answerSDP(netip.MustParseAddr("10.0.0.1"), 20000, 7, cd, dtmf, o.Direction, o.Media, o.Stream))
	var mlines []string
	for _, l := range strings.Split(ans, "\r\n") {
		if strings.HasPrefix(l, "m=") {
			mlines = append(mlines, l)
		}
	}
	want := []string{"m=video 0 RTP/AVP 96", "m=audio 0 RTP/AVP 0", "m=audio 20000 RTP/AVP 8 101"}
	if strings.Join(mlines, "|") != strings.Join(want, "|") {
		t.Errorf("answer m= lines = %q, want %q\n%s", mlines, want, ans)
	}
	back, err := ParseSDP([]byte(ans))
	if err != nil || back.Port != 20000 || back.Stream != 2 {
		t.Errorf("our answer reads back as %+v, %v", back, err)
	}
}
