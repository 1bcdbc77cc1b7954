package loadgen

import (
	"encoding/binary"
	"time"
)

// stampLen is the size of the trailer every synthetic payload ends with.
const stampLen = 16

// stampMagic marks a payload as the generator's (the last byte).
const stampMagic = 0xA7

// stamp is the trailer of every payload:
//
//	[0:8]   send time, Unix nanoseconds (big endian)
//	[8:12]  sequence number within the stream and layer
//	[12:14] stream: publisher index × 2, +1 for video
//	[14]    simulcast layer (0 for audio)
//	[15]    stampMagic
type stamp struct {
	sent   int64
	seq    uint32
	stream uint16
	layer  uint8
}

func (s stamp) put(b []byte) {
	t := b[len(b)-stampLen:]
	binary.BigEndian.PutUint64(t[0:8], uint64(s.sent))
	binary.BigEndian.PutUint32(t[8:12], s.seq)
	binary.BigEndian.PutUint16(t[12:14], s.stream)
	t[14] = s.layer
	t[15] = stampMagic
}

// readStamp decodes the trailer of a payload; ok is false when the
// payload is too short or not the generator's.
func readStamp(payload []byte) (s stamp, ok bool) {
	if len(payload) < stampLen || payload[len(payload)-1] != stampMagic {
		return stamp{}, false
	}
	t := payload[len(payload)-stampLen:]
	return stamp{
		sent:   int64(binary.BigEndian.Uint64(t[0:8])),
		seq:    binary.BigEndian.Uint32(t[8:12]),
		stream: binary.BigEndian.Uint16(t[12:14]),
		layer:  t[14],
	}, true
}

// rtpPayload returns the payload of a raw RTP packet: after the fixed
// header, the CSRCs and the header extension, before any padding. It reads
// untrusted bytes and never indexes past them (FuzzRTPPayload).
func rtpPayload(b []byte) ([]byte, bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return nil, false
	}
	n := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // extension: 4-byte header, then length words
		if len(b) < n+4 {
			return nil, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:n+4]))
	}
	end := len(b)
	if b[0]&0x20 != 0 { // padding: the last byte counts it
		if end == 0 {
			return nil, false
		}
		end -= int(b[end-1])
	}
	if n > end {
		return nil, false
	}
	return b[n:end], true
}

// Audio: Opus at 20 ms frames and about 32 kbit/s is 80 bytes a frame.
const (
	audioInterval = 20 * time.Millisecond
	audioPayload  = 80
	opusTOC       = 0x78 // SILK+CELT hybrid, fullband, 20 ms, mono
	audioClock    = 48000
	// audioLevel is the RFC 6464 level sent (-dBov, 0 loudest): loud
	// enough that the SFU counts every publisher as speaking, so all of
	// them are forwarded all the time, the worst case for fan-out.
	audioLevel = 30
)

func audioFrame(buf []byte, st stamp) []byte {
	p := buf[:audioPayload]
	p[0] = opusTOC
	for i := 1; i < len(p)-stampLen; i++ {
		p[i] = byte(i * 7)
	}
	st.put(p)
	return p
}

// videoLayer is one simulcast encoding of the synthetic camera.
type videoLayer struct {
	rid           string
	width, height int
	bitrate       int // bit/s
}

// Layers of the synthetic camera, as a browser sends 720p simulcast.
var videoLayers = []videoLayer{
	{"q", 320, 180, 150_000},
	{"h", 640, 360, 500_000},
	{"f", 1280, 720, 1_500_000},
}

const (
	videoFPS      = 30
	videoClock    = 90000
	maxVideoChunk = 1100 // payload bytes per packet, as browsers packetize
	// keyframeFactor is how much larger a keyframe is than an average
	// frame; keyframes come at the start, on PLI and every keyInterval
	// (Options.KeyframeInterval).
	keyframeFactor = 8
	keyInterval    = 10 * time.Second
)

// frameSize is the size of a frame of layer l: the layer's bitrate split
// over its frames, larger for keyframes.
func frameSize(l videoLayer, key bool) int {
	n := l.bitrate / 8 / videoFPS
	if key {
		n *= keyframeFactor
	}
	return n
}

// vp8Packets splits one synthetic VP8 frame of size bytes into RTP
// payloads of at most maxVideoChunk, each with a payload descriptor (S set
// on the first) and, on keyframes, a frame header with the layer's size in
// the first. Each payload ends in a stamp; st.seq is the first packet's
// sequence number. (Publishers send a few hundred packets a second in
// all, so allocating here costs nothing worth saving.)
func vp8Packets(size int, key bool, l videoLayer, st stamp) [][]byte {
	const desc = 1
	per := maxVideoChunk - desc - stampLen
	n := max((size+per-1)/per, 1)
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		body := per
		if i == n-1 {
			body = max(size-per*(n-1), 10)
		}
		b := make([]byte, desc+body+stampLen)
		if i == 0 {
			b[0] = 0x10 // S: start of partition 0
		}
		f := b[desc : desc+body]
		for j := range f {
			f[j] = byte(j)
		}
		if i == 0 {
			if key {
				// Frame tag with P=0 (key), start code, 14-bit sizes.
				f[0], f[1], f[2] = 0x50, 0x00, 0x00
				f[3], f[4], f[5] = 0x9d, 0x01, 0x2a
				f[6], f[7] = byte(l.width), byte(l.width>>8)&0x3f
				f[8], f[9] = byte(l.height), byte(l.height>>8)&0x3f
			} else {
				f[0] = 0x51 // P=1: inter frame
			}
		}
		s := st
		s.seq += uint32(i)
		s.put(b)
		out = append(out, b)
	}
	return out
}
