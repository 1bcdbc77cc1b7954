package sfu

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestAllocateLayers checks the simulcast choice of one subscriber: the
// display size caps the layer, the bandwidth estimate caps it further, and
// only layers actually arriving are chosen.
func TestAllocateLayers(t *testing.T) {
	tests := []struct {
		name       string
		estimate   int64
		maxW, maxH int
		stale      int // layer not received lately (-1 none)
		want       int32
	}{
		{"no limits: top", 0, 0, 0, -1, 2},
		{"small tile", 0, 320, 180, -1, 0},
		{"medium tile", 0, 640, 360, -1, 1},
		{"bandwidth for the middle layer", 1_000_000, 0, 0, -1, 1},
		{"too little for any: lowest", 50_000, 0, 0, -1, 0},
		{"top layer stopped", 0, 0, 0, 2, 1},
		{"wanted layer stopped: next above", 0, 320, 180, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &SFU{}
			r := &Room{sfu: s}
			pub := &Peer{id: "pub", room: r}
			up := newUpTrack("camera-1", pub, "0", KindCamera,
				webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, []string{"q", "h", "f"})
			rates := []int64{150_000, 500_000, 1_500_000}
			for i := range rates {
				l := &layer{idx: i, cache: newPacketCache(0)}
				l.rate.Store(rates[i])
				l.width.Store(int32(320 << i))
				l.height.Store(int32(180 << i))
				if i != tt.stale {
					l.lastPacket.Store(now())
				} else {
					l.lastPacket.Store(now() - int64(5*time.Second))
				}
				up.layers[i].Store(l)
			}
			sub := &Peer{id: "sub", room: r}
			sub.w = newWriter(&s.stats, sub.allocate)
			d := newDownTrack(up, sub)
			d.maxW.Store(int32(tt.maxW))
			d.maxH.Store(int32(tt.maxH))
			list := []*downTrack{d}
			sub.downList.Store(&list)
			sub.estimate.Store(tt.estimate)
			sub.allocate()
			if got := d.target.Load(); got != tt.want {
				t.Fatalf("target layer %d, want %d", got, tt.want)
			}
			if s.stats.keyframes.Load() == 0 {
				t.Error("no keyframe requested for the new layer")
			}
		})
	}
}
