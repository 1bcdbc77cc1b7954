package dialin

import (
	"math"
	"testing"
)

// BenchmarkCallFrame is one 20 ms tick of a joined call's audio work:
// caller → room (G.711 decode, 8→48 kHz, Opus encode) and room → caller
// with three speakers (3 Opus decodes, mix, 48→8 kHz, G.711 encode).
// CPU per call = ns/op ÷ 20 ms.
func BenchmarkCallFrame(b *testing.B) {
	enc, err := newOpusEncoder()
	if err != nil {
		b.Fatal(err)
	}
	cd := codec{ulaw: true}
	pcm := make([]int16, phoneFrame)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	g711in := cd.encode(pcm, nil)
	// Three room speakers' frames.
	var frames [][]byte
	for s := 0; s < 3; s++ {
		e, _ := newOpusEncoder()
		op, _, _ := e.encode(pcm)
		frames = append(frames, append([]byte(nil), op...))
	}
	m := newMixer("me")
	srcs := []string{"a", "b", "c"}
	var in []int16
	out := make([]byte, 0, phoneFrame)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in = cd.decode(g711in, in[:0])
		if _, _, err := enc.encode(in); err != nil {
			b.Fatal(err)
		}
		for k, s := range srcs {
			m.push(s, frames[k])
		}
		mixed, _ := m.frame()
		out = cd.encode(mixed, out[:0])
	}
}

func BenchmarkOpusEncode(b *testing.B) {
	enc, _ := newOpusEncoder()
	pcm := make([]int16, phoneFrame)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	for i := 0; i < b.N; i++ {
		enc.encode(pcm)
	}
}
