package dialin

import (
	"fmt"
	"math"

	"github.com/thesyncim/gopus"
	"github.com/zaf/g711"
)

// Audio formats of the bridge: the phone side is G.711 at 8 kHz in 20 ms
// frames (160 samples), the room side Opus at 48 kHz mono in 20 ms frames
// (960 samples).
const (
	phoneRate   = 8000
	phoneFrame  = 160
	roomRate    = 48000
	roomFrame   = 960
	upFactor    = roomRate / phoneRate
	maxOpusSize = 1500
)

// codec is G.711 μ-law or A-law.
type codec struct {
	ulaw bool
}

func codecFor(f Format) codec { return codec{ulaw: f.Name == "PCMU"} }

func (c codec) decode(p []byte, out []int16) []int16 {
	for _, b := range p {
		if c.ulaw {
			out = append(out, g711.DecodeUlawFrame(b))
		} else {
			out = append(out, g711.DecodeAlawFrame(b))
		}
	}
	return out
}

func (c codec) encode(pcm []int16, out []byte) []byte {
	for _, s := range pcm {
		if c.ulaw {
			out = append(out, g711.EncodeUlawFrame(s))
		} else {
			out = append(out, g711.EncodeAlawFrame(s))
		}
	}
	return out
}

// fromUlaw converts a μ-law prompt byte to this codec's byte.
func (c codec) fromUlaw(b byte) byte {
	if c.ulaw {
		return b
	}
	return g711.Ulaw2AlawFrame(b)
}

// The resamplers share one low-pass FIR (windowed sinc at 48 kHz, cut at
// 3.6 kHz), used polyphase: upsampling by 6 runs taps/6 multiplies per
// output sample, downsampling computes only every 6th output.
const firTaps = 96

var lowpass = func() [firTaps]float64 {
	var h [firTaps]float64
	fc := 3600.0 / roomRate
	mid := float64(firTaps-1) / 2
	var sum float64
	for i := range h {
		x := float64(i) - mid
		sinc := 2 * fc
		if x != 0 {
			sinc = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		win := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(firTaps-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/float64(firTaps-1))
		h[i] = sinc * win
		sum += h[i]
	}
	for i := range h {
		h[i] /= sum
	}
	return h
}()

// upsampler converts 8 kHz to 48 kHz.
type upsampler struct {
	hist [firTaps / upFactor]float64 // newest last
}

func (u *upsampler) process(in []int16, out []float32) []float32 {
	const per = firTaps / upFactor
	for _, s := range in {
		copy(u.hist[:], u.hist[1:])
		u.hist[per-1] = float64(s)
		for p := 0; p < upFactor; p++ {
			var acc float64
			for k := 0; k < per; k++ {
				acc += lowpass[p+upFactor*k] * u.hist[per-1-k]
			}
			out = append(out, float32(acc*upFactor/32768))
		}
	}
	return out
}

// downsampler converts 48 kHz to 8 kHz.
type downsampler struct {
	hist  [firTaps]float64 // ring of the last inputs
	pos   int
	phase int
}

func (d *downsampler) process(in []float32, out []int16) []int16 {
	for _, s := range in {
		d.hist[d.pos] = float64(s)
		d.pos = (d.pos + 1) % firTaps
		d.phase++
		if d.phase < upFactor {
			continue
		}
		d.phase = 0
		var acc float64
		for k := 0; k < firTaps; k++ {
			acc += lowpass[k] * d.hist[(d.pos-1-k+2*firTaps)%firTaps]
		}
		out = append(out, clip16(acc*32768))
	}
	return out
}

func clip16(v float64) int16 {
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	}
	return int16(math.Round(v))
}

// audioLevel is the RFC 6464 level of a frame: -dBov, 0 (loudest) to 127
// (silence), as the SFU's active-speaker detection expects.
func audioLevel(pcm []int16) uint8 {
	if len(pcm) == 0 {
		return 127
	}
	var sum float64
	for _, s := range pcm {
		v := float64(s) / 32768
		sum += v * v
	}
	rms := math.Sqrt(sum / float64(len(pcm)))
	if rms <= 0 {
		return 127
	}
	db := -20 * math.Log10(rms)
	switch {
	case db < 0:
		return 0
	case db > 127:
		return 127
	}
	return uint8(db)
}

// opusEncoder turns the caller's 8 kHz audio into 20 ms Opus frames at
// 48 kHz for the room.
type opusEncoder struct {
	enc *gopus.Encoder
	up  upsampler
	pcm []float32
	buf []byte
}

func newOpusEncoder() (*opusEncoder, error) {
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: roomRate, Channels: 1, Application: gopus.ApplicationVoIP})
	if err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	// Narrowband speech from a phone needs little; 24 kbit/s leaves room.
	if err := enc.SetBitrate(24000); err != nil {
		return nil, fmt.Errorf("opus bitrate: %w", err)
	}
	// A phone carries at most 4 kHz of audio: wideband SILK holds all of
	// it, and skipping the CELT layer and the top complexity makes the
	// pure-Go encoder several times cheaper per call.
	if err := enc.SetMaxBandwidth(gopus.BandwidthWideband); err != nil {
		return nil, fmt.Errorf("opus bandwidth: %w", err)
	}
	if err := enc.SetComplexity(5); err != nil {
		return nil, fmt.Errorf("opus complexity: %w", err)
	}
	if err := enc.SetSignal(gopus.SignalVoice); err != nil {
		return nil, fmt.Errorf("opus signal: %w", err)
	}
	return &opusEncoder{enc: enc, pcm: make([]float32, 0, roomFrame), buf: make([]byte, maxOpusSize)}, nil
}

// encode takes one 20 ms phone frame and returns the Opus frame (valid
// until the next call) and its audio level.
func (e *opusEncoder) encode(pcm8 []int16) ([]byte, uint8, error) {
	if len(pcm8) != phoneFrame {
		return nil, 0, fmt.Errorf("%w: %d samples, want %d", ErrBadAudio, len(pcm8), phoneFrame)
	}
	e.pcm = e.up.process(pcm8, e.pcm[:0])
	n, err := e.enc.Encode(e.pcm, e.buf)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: opus encode: %v", ErrBadAudio, err)
	}
	return e.buf[:n], audioLevel(pcm8), nil
}

// opusDecoder decodes one room source to 48 kHz mono.
type opusDecoder struct {
	dec *gopus.Decoder
	pcm []float32
}

func newOpusDecoder() (*opusDecoder, error) {
	dec, err := gopus.NewDecoder(gopus.DefaultDecoderConfig(roomRate, 1))
	if err != nil {
		return nil, fmt.Errorf("opus decoder: %w", err)
	}
	// 120 ms is the longest Opus packet.
	return &opusDecoder{dec: dec, pcm: make([]float32, roomRate*120/1000)}, nil
}

// decode returns the samples of one frame (valid until the next call).
func (d *opusDecoder) decode(frame []byte) ([]float32, error) {
	n, err := d.dec.Decode(frame, d.pcm)
	if err != nil {
		return nil, fmt.Errorf("%w: opus decode: %v", ErrBadAudio, err)
	}
	return d.pcm[:n], nil
}
