package dialin

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// A small SDP (RFC 4566) reader and writer for exactly what a telephone
// trunk offers: one audio stream, G.711 and telephone-event. Everything else
// in an offer (video, unknown attributes) is ignored; anything we cannot
// trust is ErrBadSDP.

// Format is one payload type of an audio media line.
type Format struct {
	PT       uint8
	Name     string // encoding name, upper case ("PCMU", "TELEPHONE-EVENT")
	Rate     int
	Channels int
	Fmtp     string
}

// Offer is the part of a remote SDP the gateway uses.
type Offer struct {
	// Addr and Port are where the remote wants RTP (media-level c= wins).
	Addr netip.Addr
	Port int
	// Formats in the remote's order of preference.
	Formats []Format
	// Direction is sendrecv, sendonly, recvonly or inactive.
	Direction string
	// Ptime in milliseconds, 0 when absent.
	Ptime int
	// Media are the offer's m= lines in order; Stream is the index of the
	// audio stream used.
	Media  []MediaLine
	Stream int
}

// MediaLine is what an answer repeats of an offered m= line it rejects.
type MediaLine struct{ Type, Proto, Format string }

// maxMediaLines bounds the m= lines of an offer (and so of the answer).
const maxMediaLines = 16

// maxSDP bounds what is parsed at all; a trunk's offer is a few hundred bytes.
const maxSDP = 16 << 10

var staticFormats = map[uint8]Format{
	0: {PT: 0, Name: "PCMU", Rate: 8000, Channels: 1},
	8: {PT: 8, Name: "PCMA", Rate: 8000, Channels: 1},
	9: {PT: 9, Name: "G722", Rate: 8000, Channels: 1},
}

// ParseSDP reads the first usable audio stream of an SDP body (port 0
// marks a disabled one) and lists every m= line for the answer.
func ParseSDP(body []byte) (*Offer, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrBadSDP)
	}
	if len(body) > maxSDP {
		return nil, fmt.Errorf("%w: body too large", ErrBadSDP)
	}
	var (
		o          Offer
		sessAddr   netip.Addr
		mediaAddr  netip.Addr
		inAudio    bool
		seenAudio  bool
		disabled   bool // an audio stream with port 0 was skipped
		seenV      bool
		pts        []uint8
		rtpmap     = map[uint8]Format{}
		fmtp       = map[uint8]string{}
		sessionDir = "sendrecv"
		mediaDir   = ""
	)
	for _, raw := range bytes.Split(body, []byte("\n")) {
		line := strings.TrimRight(string(raw), "\r")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return nil, fmt.Errorf("%w: line without type", ErrBadSDP)
		}
		typ, val := line[0], line[2:]
		switch typ {
		case 'v':
			if val != "0" {
				return nil, fmt.Errorf("%w: version", ErrBadSDP)
			}
			seenV = true
		case 'm':
			f := strings.Fields(val)
			if len(f) < 4 {
				return nil, fmt.Errorf("%w: media line", ErrBadSDP)
			}
			if len(o.Media) == maxMediaLines {
				return nil, fmt.Errorf("%w: more than %d media lines", ErrBadSDP, maxMediaLines)
			}
			o.Media = append(o.Media, MediaLine{Type: f[0], Proto: f[2], Format: f[3]})
			inAudio = false
			if seenAudio || f[0] != "audio" {
				continue // only the first usable audio stream counts
			}
			port, err := strconv.Atoi(f[1])
			if err != nil || port < 0 || port > 65535 {
				return nil, fmt.Errorf("%w: media port", ErrBadSDP)
			}
			if port == 0 {
				// Port 0 rejects or disables a stream (RFC 3264 §6, §8.2):
				// nothing to send audio to; a later audio stream may do.
				disabled = true
				continue
			}
			if !strings.HasPrefix(f[2], "RTP/") {
				return nil, fmt.Errorf("%w: transport %q", ErrBadSDP, f[2])
			}
			for _, p := range f[3:] {
				n, err := strconv.ParseUint(p, 10, 8)
				if err != nil || n > 127 {
					return nil, fmt.Errorf("%w: payload type", ErrBadSDP)
				}
				pts = append(pts, uint8(n))
			}
			o.Port, o.Stream = port, len(o.Media)-1
			inAudio, seenAudio = true, true
		case 'c':
			f := strings.Fields(val)
			if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
				return nil, fmt.Errorf("%w: connection line", ErrBadSDP)
			}
			host, _, _ := strings.Cut(f[2], "/") // multicast TTL suffix
			a, err := netip.ParseAddr(host)
			if err != nil {
				return nil, fmt.Errorf("%w: connection address", ErrBadSDP)
			}
			// Before the first m= line is the session level; another
			// stream's address is not the audio's.
			if inAudio {
				mediaAddr = a
			} else if len(o.Media) == 0 {
				sessAddr = a
			}
		case 'a':
			name, arg, _ := strings.Cut(val, ":")
			switch name {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				if inAudio {
					mediaDir = name
				} else if len(o.Media) == 0 {
					sessionDir = name
				}
			case "rtpmap", "fmtp", "ptime":
				if !inAudio {
					continue
				}
				if name == "ptime" {
					n, err := strconv.Atoi(strings.TrimSpace(arg))
					if err != nil || n <= 0 || n > 1000 {
						return nil, fmt.Errorf("%w: ptime", ErrBadSDP)
					}
					o.Ptime = n
					continue
				}
				ptStr, rest, ok := strings.Cut(arg, " ")
				pt, err := strconv.ParseUint(ptStr, 10, 8)
				if !ok || err != nil || pt > 127 {
					return nil, fmt.Errorf("%w: %s", ErrBadSDP, name)
				}
				if name == "fmtp" {
					fmtp[uint8(pt)] = strings.TrimSpace(rest)
					continue
				}
				parts := strings.Split(strings.TrimSpace(rest), "/")
				if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
					return nil, fmt.Errorf("%w: rtpmap", ErrBadSDP)
				}
				rate, err := strconv.Atoi(parts[1])
				if err != nil || rate <= 0 || rate > 384000 {
					return nil, fmt.Errorf("%w: rtpmap rate", ErrBadSDP)
				}
				ch := 1
				if len(parts) == 3 {
					if ch, err = strconv.Atoi(parts[2]); err != nil || ch < 1 || ch > 8 {
						return nil, fmt.Errorf("%w: rtpmap channels", ErrBadSDP)
					}
				}
				rtpmap[uint8(pt)] = Format{PT: uint8(pt), Name: strings.ToUpper(parts[0]), Rate: rate, Channels: ch}
			}
		}
	}
	if !seenV {
		return nil, fmt.Errorf("%w: no version line", ErrBadSDP)
	}
	if !seenAudio && disabled {
		return nil, fmt.Errorf("%w: no usable audio stream (every one has port 0)", ErrBadSDP)
	}
	if !seenAudio {
		return nil, fmt.Errorf("%w: no audio stream", ErrBadSDP)
	}
	o.Addr = mediaAddr
	if !o.Addr.IsValid() {
		o.Addr = sessAddr
	}
	if !o.Addr.IsValid() {
		return nil, fmt.Errorf("%w: no connection address", ErrBadSDP)
	}
	o.Direction = sessionDir
	if mediaDir != "" {
		o.Direction = mediaDir
	}
	for _, pt := range pts {
		f, ok := rtpmap[pt]
		if !ok {
			if f, ok = staticFormats[pt]; !ok {
				continue // a dynamic type without rtpmap is unusable
			}
		}
		f.Fmtp = fmtp[pt]
		o.Formats = append(o.Formats, f)
	}
	return &o, nil
}

// Negotiate picks the audio codec (PCMU or PCMA, in the remote's order) and
// telephone-event at 8 kHz if offered. No common codec is ErrNoCodec.
func (o *Offer) Negotiate() (codec Format, dtmf *Format, err error) {
	found := false
	for _, f := range o.Formats {
		switch {
		case !found && (f.Name == "PCMU" || f.Name == "PCMA") && f.Rate == 8000 && f.Channels == 1:
			codec, found = f, true
		case dtmf == nil && f.Name == "TELEPHONE-EVENT" && f.Rate == 8000:
			d := f
			dtmf = &d
		}
	}
	if !found {
		return Format{}, nil, ErrNoCodec
	}
	return codec, dtmf, nil
}

// answerSDP writes the answer: our address and port, the chosen codec and,
// when offered, telephone-event (a phone sends RFC 4733 only when the answer
// carries it). direction answers the offer's direction. The answer has an
// m= line for each of the offer's (media, in order; RFC 3264 §6): the one
// at stream is ours, the others are rejected with port 0.
func answerSDP(addr netip.Addr, port int, sessID uint64, codec Format, dtmf *Format, direction string, media []MediaLine, stream int) []byte {
	ipv := "IP4"
	if addr.Is6() && !addr.Is4In6() {
		ipv = "IP6"
	}
	switch direction {
	case "sendonly":
		direction = "recvonly"
	case "recvonly":
		direction = "sendonly"
	case "inactive":
	default:
		direction = "sendrecv"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\n")
	fmt.Fprintf(&b, "o=aula %d %d IN %s %s\r\n", sessID, sessID, ipv, addr.Unmap())
	fmt.Fprintf(&b, "s=aula\r\n")
	fmt.Fprintf(&b, "c=IN %s %s\r\n", ipv, addr.Unmap())
	fmt.Fprintf(&b, "t=0 0\r\n")
	pts := strconv.Itoa(int(codec.PT))
	if dtmf != nil {
		pts += " " + strconv.Itoa(int(dtmf.PT))
	}
	for _, m := range media[:min(stream, len(media))] {
		fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", m.Type, m.Proto, m.Format)
	}
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", port, pts)
	fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", codec.PT, codec.Name)
	if dtmf != nil {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\n", dtmf.PT)
		fmt.Fprintf(&b, "a=fmtp:%d 0-16\r\n", dtmf.PT)
	}
	fmt.Fprintf(&b, "a=ptime:20\r\n")
	fmt.Fprintf(&b, "a=%s\r\n", direction)
	if stream < len(media) {
		for _, m := range media[stream+1:] {
			fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", m.Type, m.Proto, m.Format)
		}
	}
	return []byte(b.String())
}
