package siptest

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

func TestReadAnswer(t *testing.T) {
	cases := []struct {
		name, sdp string
		ok, ulaw  bool
		dtmf      uint8
	}{
		{"pcmu with events", "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 20000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", true, true, 101},
		{"pcma", "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 8\n", true, false, 0},
		{"opus only", "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 20000 RTP/AVP 111\r\n", false, false, 0},
		{"no address", "v=0\r\nm=audio 20000 RTP/AVP 0\r\n", false, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Phone
			err := p.readAnswer([]byte(tc.sdp))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (p.ulaw != tc.ulaw || p.dtmfPT != tc.dtmf) {
				t.Errorf("ulaw=%v dtmf=%d", p.ulaw, p.dtmfPT)
			}
		})
	}
}

func TestKeyFreqs(t *testing.T) {
	if r, c, ok := KeyFreqs('#'); !ok || r != 941 || c != 1477 {
		t.Errorf("# = %v %v %v", r, c, ok)
	}
	if _, _, ok := KeyFreqs('x'); ok {
		t.Error("x is a key")
	}
}

// Nobody answers: Dial gives up at the context's deadline and leaves
// nothing running.
func TestDialUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, netip.MustParseAddrPort("127.0.0.1:9"), Options{}); err == nil {
		t.Fatal("dialled nobody")
	}
}
