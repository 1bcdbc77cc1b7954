package render

import (
	"bytes"
	"encoding/binary"
	"io"
)

// jpegOrientation reads the EXIF orientation (1–8) of the JPEG in r from
// its first 256 KiB; 1 (upright) when there is none. Phones store photos
// as the sensor saw them and only tag how to turn them; the tag is
// dropped with the rest of the metadata, so the turn is applied here.
func jpegOrientation(r io.ReaderAt) int {
	buf := make([]byte, 256<<10)
	n, _ := r.ReadAt(buf, 0)
	return orientationOf(buf[:n])
}

// orientationOf finds the APP1 Exif segment among a JPEG's leading
// segments and reads tag 0x0112 of its first IFD.
func orientationOf(b []byte) int {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return 1
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xff {
			return 1
		}
		marker := b[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // image data or end: no Exif before it
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads the orientation from a TIFF header and IFD0.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return 1
	}
	n := int64(bo.Uint16(t[off:]))
	for e := range n {
		p := off + 2 + 12*e
		if p+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[p:]) != 0x0112 {
			continue
		}
		// SHORT, one value, stored in the first two bytes of the value.
		if bo.Uint16(t[p+2:]) != 3 || bo.Uint32(t[p+4:]) != 1 {
			return 1
		}
		if v := int(bo.Uint16(t[p+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}
