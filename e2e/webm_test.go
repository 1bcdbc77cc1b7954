package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A test video for the external-video tests: the browser itself encodes
// VP8 frames of a canvas (WebCodecs, every frame a key frame, no real
// time needed), and webm puts them into a WebM file with its duration and
// cues, so a <video> can seek in it. There is no ffmpeg on the machine.

// vp8Frame is one encoded frame: its time (µs) and bytes.
type vp8Frame struct {
	TS   int64  `json:"ts"`
	Data string `json:"data"` // base64
}

// encodeTestVideo has the page p encode seconds of video at 2 frames a
// second (160×90, the time written on each frame).
func encodeTestVideo(t *testing.T, p *tab, seconds int) []vp8Frame {
	t.Helper()
	js := `(async () => {
  const W = 160, H = 90, n = ` + strconv.Itoa(seconds*2) + `;
  const canvas = new OffscreenCanvas(W, H);
  const g = canvas.getContext('2d');
  const out = [];
  let failed = null;
  const enc = new VideoEncoder({
    output: (chunk) => {
      const b = new Uint8Array(chunk.byteLength);
      chunk.copyTo(b);
      let s = '';
      for (const x of b) s += String.fromCharCode(x);
      out.push({ ts: chunk.timestamp, data: btoa(s) });
    },
    error: (e) => { failed = e; },
  });
  enc.configure({ codec: 'vp8', width: W, height: H, bitrate: 200000, framerate: 2 });
  for (let i = 0; i < n; i++) {
    g.fillStyle = 'hsl(' + (i * 7) + ', 60%, 40%)';
    g.fillRect(0, 0, W, H);
    g.fillStyle = '#fff';
    g.font = '40px sans-serif';
    g.fillText((i / 2).toFixed(1), 20, 60);
    const f = new VideoFrame(canvas, { timestamp: i * 500000, duration: 500000 });
    enc.encode(f, { keyFrame: true });
    f.close();
  }
  await enc.flush();
  if (failed) throw failed;
  return out;
})()`
	ctx, cancel := context.WithTimeout(p.ctx, stepWait)
	defer cancel()
	frames, err := chromedp.Run(ctx, chromedp.Evaluate[[]vp8Frame](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("encode the test video: %v", err)
	}
	if len(frames) != seconds*2 {
		t.Fatalf("encoded %d frames, want %d", len(frames), seconds*2)
	}
	return frames
}

// EBML: an element is its ID, its size as a variable-length integer, its
// data.
func ebml(id uint32, data ...[]byte) []byte {
	var body []byte
	for _, d := range data {
		body = append(body, d...)
	}
	var out []byte
	switch {
	case id >= 1<<24:
		out = append(out, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		out = append(out, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		out = append(out, byte(id>>8), byte(id))
	default:
		out = append(out, byte(id))
	}
	// Sizes as 8-byte vints: element sizes are then known in advance.
	size := uint64(len(body)) | 1<<56
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], size)
	out = append(out, s[:]...)
	return append(out, body...)
}

func ebmlUint(id uint32, v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return ebml(id, b[:])
}

func ebmlFloat(id uint32, v float64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(v))
	return ebml(id, b[:])
}

func ebmlString(id uint32, s string) []byte { return ebml(id, []byte(s)) }

// webm muxes VP8 frames (2 per second, all key frames) into a WebM file
// with a seek head, the duration, one cluster per 5 s and cues.
func webm(t *testing.T, frames []vp8Frame, w, h int) []byte {
	t.Helper()
	header := ebml(0x1A45DFA3,
		ebmlUint(0x4286, 1), ebmlUint(0x42F7, 1), ebmlUint(0x42F2, 4), ebmlUint(0x42F3, 8),
		ebmlString(0x4282, "webm"), ebmlUint(0x4287, 2), ebmlUint(0x4285, 2))
	last := frames[len(frames)-1].TS
	durMs := float64(last)/1000 + 500
	info := ebml(0x1549A966, ebmlUint(0x2AD7B1, 1000000), ebmlFloat(0x4489, durMs),
		ebmlString(0x4D80, "aula-e2e"), ebmlString(0x5741, "aula-e2e"))
	tracks := ebml(0x1654AE6B, ebml(0xAE,
		ebmlUint(0xD7, 1), ebmlUint(0x73C5, 1), ebmlUint(0x83, 1), ebmlString(0x86, "V_VP8"),
		ebml(0xE0, ebmlUint(0xB0, uint64(w)), ebmlUint(0xBA, uint64(h)))))
	// Clusters of 5 s.
	type cl struct {
		ms   int64
		data []byte
	}
	var clusters []cl
	for i := 0; i < len(frames); {
		start := frames[i].TS / 1000
		var blocks [][]byte
		blocks = append(blocks, ebmlUint(0xE7, uint64(start)))
		for ; i < len(frames) && frames[i].TS/1000 < start+5000; i++ {
			data, err := base64.StdEncoding.DecodeString(frames[i].Data)
			if err != nil {
				t.Fatal(err)
			}
			rel := int16(frames[i].TS/1000 - start)
			blk := []byte{0x81, byte(uint16(rel) >> 8), byte(uint16(rel)), 0x80}
			blocks = append(blocks, ebml(0xA3, blk, data))
		}
		clusters = append(clusters, cl{ms: start, data: ebml(0x1F43B675, blocks...)})
	}
	seekEntry := func(id uint32, pos uint64) []byte {
		idb := []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
		return ebml(0x4DBB, ebml(0x53AB, idb), ebmlUint(0x53AC, pos))
	}
	// The seek head's size does not depend on the positions (fixed-width).
	seekSize := uint64(len(ebml(0x114D9B74, seekEntry(0x1549A966, 0), seekEntry(0x1654AE6B, 0), seekEntry(0x1C53BB6B, 0))))
	infoPos := seekSize
	tracksPos := infoPos + uint64(len(info))
	pos := tracksPos + uint64(len(tracks))
	var cues [][]byte
	var body bytes.Buffer
	for _, c := range clusters {
		cues = append(cues, ebml(0xBB, ebmlUint(0xB3, uint64(c.ms)),
			ebml(0xB7, ebmlUint(0xF7, 1), ebmlUint(0xF1, pos))))
		body.Write(c.data)
		pos += uint64(len(c.data))
	}
	cuesEl := ebml(0x1C53BB6B, cues...)
	seek := ebml(0x114D9B74, seekEntry(0x1549A966, infoPos), seekEntry(0x1654AE6B, tracksPos), seekEntry(0x1C53BB6B, pos))
	segment := ebml(0x18538067, seek, info, tracks, body.Bytes(), cuesEl)
	return append(header, segment...)
}

// serveVideo serves the file at /clip.webm on a loopback server of its
// own (another origin than Aula's), with range requests.
func serveVideo(t *testing.T, data []byte) *httptest.Server {
	t.Helper()
	mod := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/clip.webm" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "video/webm")
		http.ServeContent(w, r, "clip.webm", mod, bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	return srv
}
