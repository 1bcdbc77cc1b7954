package sfu

// Small parsers of the bits of media the SFU must see: is this packet the
// start of a keyframe (to switch layers and to end a drop), how large is a
// VP8 keyframe (to map a display size to a simulcast layer), and how loud is
// an audio packet (RFC 6464). They read untrusted bytes from the network, so
// they never index past the slice (see FuzzParsers).

// vp8Keyframe reports whether a VP8 RTP payload starts a keyframe and, if so,
// the frame's width and height (0 when the packet is too short to tell).
func vp8Keyframe(p []byte) (key bool, w, h int) {
	if len(p) < 1 {
		return false, 0, 0
	}
	b0 := p[0]
	start, pid := b0&0x10 != 0, b0&0x07
	i := 1
	if b0&0x80 != 0 { // X: extension byte follows
		if len(p) <= i {
			return false, 0, 0
		}
		x := p[i]
		i++
		if x&0x80 != 0 { // I: picture ID, 7 or 15 bits
			if len(p) <= i {
				return false, 0, 0
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX byte
			i++
		}
	}
	if !start || pid != 0 || len(p) <= i {
		return false, 0, 0
	}
	f := p[i:]
	if f[0]&0x01 != 0 { // P bit set: inter frame
		return false, 0, 0
	}
	if len(f) >= 10 && f[3] == 0x9d && f[4] == 0x01 && f[5] == 0x2a {
		w = int(f[6]) | int(f[7]&0x3f)<<8
		h = int(f[8]) | int(f[9]&0x3f)<<8
	}
	return true, w, h
}

// h264Keyframe reports whether an H.264 RTP payload (RFC 6184) carries an
// IDR slice or a sequence parameter set, which decoders need to start.
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case 5, 7:
		return true
	case 24: // STAP-A: 16-bit sizes, each followed by a NAL unit
		for i := 1; i+2 < len(p); {
			n := int(p[i])<<8 | int(p[i+1])
			i += 2
			if n == 0 || i+n > len(p) {
				return false
			}
			if nt := p[i] & 0x1f; nt == 5 || nt == 7 {
				return true
			}
			i += n
		}
	case 28: // FU-A: start bit and original type in the second byte
		if len(p) < 2 {
			return false
		}
		nt := p[1] & 0x1f
		return p[1]&0x80 != 0 && (nt == 5 || nt == 7)
	}
	return false
}

// audioLevel decodes an RFC 6464 audio level extension: level in -dBov
// (0 loudest, 127 silence) and the voice-activity flag.
func audioLevel(ext []byte) (level uint8, voice bool, ok bool) {
	if len(ext) < 1 {
		return 127, false, false
	}
	return ext[0] & 0x7f, ext[0]&0x80 != 0, true
}
