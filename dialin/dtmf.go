package dialin

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DTMF arrives three ways: RFC 4733 telephone-events in RTP, SIP INFO
// bodies, and tones inside the G.711 audio. All three end as digit bytes
// '0'-'9', '*', '#', 'A'-'D' fed to the same PIN collector.

// TelephoneEvent is one RFC 4733 payload (4 bytes).
type TelephoneEvent struct {
	Event    uint8
	End      bool
	Volume   uint8
	Duration uint16
}

// ParseTelephoneEvent reads an RFC 4733 payload. Redundant payloads
// (several events in one packet) carry the newest first; we read the first.
func ParseTelephoneEvent(p []byte) (TelephoneEvent, error) {
	if len(p) < 4 {
		return TelephoneEvent{}, fmt.Errorf("%w: telephone-event shorter than 4 bytes", ErrBadDTMF)
	}
	ev := TelephoneEvent{Event: p[0], End: p[1]&0x80 != 0, Volume: p[1] & 0x3f, Duration: binary.BigEndian.Uint16(p[2:4])}
	if _, ok := eventDigit(ev.Event); !ok {
		return TelephoneEvent{}, fmt.Errorf("%w: event %d is not a DTMF key", ErrBadDTMF, ev.Event)
	}
	return ev, nil
}

const digits = "0123456789*#ABCD"

// eventDigit maps an RFC 4733 event code (0-15) to its key.
func eventDigit(e uint8) (byte, bool) {
	if int(e) >= len(digits) {
		return 0, false
	}
	return digits[e], true
}

// digitEvent is the inverse of eventDigit.
func digitEvent(d byte) (uint8, bool) {
	i := strings.IndexByte(digits, d)
	return uint8(i), i >= 0
}

// eventTracker turns a stream of telephone-event packets into key presses.
// One key press is one RTP timestamp: the digit is committed on the first
// packet of a new timestamp, so a phone that never sends the end packet of
// its last digit (baresip) still gets it counted, and retransmitted end
// packets (RFC 4733 sends three) of the same timestamp are dropped.
type eventTracker struct {
	have bool
	ts   uint32
}

// feed returns the digit to commit for a packet, if any.
func (t *eventTracker) feed(ts uint32, ev TelephoneEvent) (byte, bool) {
	if t.have && ts == t.ts {
		return 0, false
	}
	t.have, t.ts = true, ts
	return eventDigit(ev.Event)
}

// maxInfoBody bounds a SIP INFO DTMF body; real ones are ~30 bytes.
const maxInfoBody = 1024

// ParseInfoDTMF reads the digit of a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5").
func ParseInfoDTMF(contentType string, body []byte) (byte, error) {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	ct, _, _ = strings.Cut(ct, ";")
	ct = strings.TrimSpace(ct)
	if len(body) > maxInfoBody {
		return 0, fmt.Errorf("%w: INFO body too large", ErrBadDTMF)
	}
	var sig string
	switch ct {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(body), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				sig = strings.TrimSpace(v)
				break
			}
		}
		if sig == "" {
			return 0, fmt.Errorf("%w: no Signal in dtmf-relay", ErrBadDTMF)
		}
	case "application/dtmf":
		sig = strings.TrimSpace(string(body))
	default:
		return 0, fmt.Errorf("%w: content type is not DTMF", ErrBadDTMF)
	}
	if len(sig) == 1 {
		d := sig[0]
		if d >= 'a' && d <= 'd' {
			d -= 'a' - 'A'
		}
		if _, ok := digitEvent(d); ok {
			return d, nil
		}
	}
	// Some gateways send the RFC 4733 event code ("10" for *, "11" for #).
	if n, err := strconv.Atoi(sig); err == nil && n >= 0 && n < len(digits) {
		return digits[n], nil
	}
	return 0, fmt.Errorf("%w: signal is not a DTMF key", ErrBadDTMF)
}

// Goertzel returns the squared magnitude of one frequency's DFT term over
// a block of samples: a sinusoid of amplitude A filling N samples gives
// about (A·N/2)². relPower relates it to the block's energy.
func Goertzel(samples []float64, freq, rate float64) float64 {
	w := 2 * math.Pi * freq / rate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := x + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// relPower is the share of a block's energy at freq: about 1 for a pure
// tone at freq, 0.5 for each of two equal tones, near 0 for other sound.
func relPower(samples []float64, freq, rate, energy float64) float64 {
	if energy == 0 {
		return 0
	}
	return Goertzel(samples, freq, rate) / (energy * float64(len(samples)) / 2)
}

var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeys = [4][4]byte{{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}}
)

// toneBlock is 205 samples at 8 kHz (25.6 ms), the classic DTMF block: its
// bins fall close to all eight frequencies, and a 40 ms key press (the
// shortest ITU Q.24 allows) covers at least one whole block.
const toneBlock = 205

// toneDetector finds DTMF keys in 8 kHz audio (Goertzel on the eight
// frequencies, with energy, twist and purity checks). A key is committed
// when two consecutive blocks agree, and again only after a block without it.
type toneDetector struct {
	buf     []float64
	last    byte // key seen in the previous block, 0 for none
	emitted bool // last has been committed
}

// feed takes linear samples and returns keys that were committed.
func (d *toneDetector) feed(pcm []int16, out []byte) []byte {
	for _, s := range pcm {
		d.buf = append(d.buf, float64(s))
		if len(d.buf) == toneBlock {
			k := detectKey(d.buf)
			d.buf = d.buf[:0]
			switch {
			case k == 0:
				d.last, d.emitted = 0, false
			case k == d.last && !d.emitted:
				out = append(out, k)
				d.emitted = true
			case k != d.last:
				d.last, d.emitted = k, false
			}
		}
	}
	return out
}

// detectKey returns the key in one block or 0.
func detectKey(b []float64) byte {
	var energy float64
	for _, x := range b {
		energy += x * x
	}
	// Below about -35 dBm0 (RMS ~ 300 of 32767) nothing counts as a key.
	if energy/float64(len(b)) < 300*300/2 {
		return 0
	}
	best := func(fs [4]float64) (int, float64, float64) {
		bi, bp, second := -1, 0.0, 0.0
		for i, f := range fs {
			p := relPower(b, f, 8000, energy)
			if p > bp {
				bi, second, bp = i, bp, p
			} else if p > second {
				second = p
			}
		}
		return bi, bp, second
	}
	r, rp, r2 := best(dtmfRows)
	c, cp, c2 := best(dtmfCols)
	if r < 0 || c < 0 {
		return 0
	}
	// Most of the energy must be the two tones (speech spreads out).
	if rp+cp < 0.6 {
		return 0
	}
	// Twist: the two tones within 8 dB of each other.
	if rp > cp*6.3 || cp > rp*6.3 {
		return 0
	}
	// Each winner clearly above the runner-up of its group (~ 8 dB).
	if r2*6.3 > rp || c2*6.3 > cp {
		return 0
	}
	return dtmfKeys[r][c]
}
