package sfu

import (
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
)

// packetMTU is the largest RTP packet the SFU reads; Pion's default receive
// MTU is 1460, browsers send at most about 1200 bytes.
const packetMTU = 1500

// packet is one received RTP packet, read once and shared by reference
// between the up track's cache and every down track's writer queue: the
// fan-out copies no payload. It returns to the pool when the last holder
// releases it. Everything but refs is written only by the reading goroutine
// before the packet is shared, and only read afterwards.
type packet struct {
	refs     atomic.Int32
	buf      [packetMTU]byte
	n        int
	hdr      rtp.Header
	extBuf   [8]rtp.Extension // backing for hdr.Extensions: parsing allocates nothing
	payload  []byte
	keyframe bool
	arrival  int64 // now() when read
	// resync tells down tracks that the up track skipped packets on
	// purpose before this one (muted, silent speaker), so they renumber
	// instead of leaving a gap the receiver would see as loss.
	resync bool
}

var packetPool = sync.Pool{New: func() any {
	p := new(packet)
	p.hdr.Extensions = p.extBuf[:0]
	return p
}}

func getPacket() *packet {
	p := packetPool.Get().(*packet)
	p.refs.Store(1)
	p.keyframe, p.resync = false, false
	return p
}

func (p *packet) retain() { p.refs.Add(1) }

func (p *packet) release() {
	if p.refs.Add(-1) == 0 {
		packetPool.Put(p)
	}
}

// parse reads the header of buf[:n]; the payload aliases buf.
func (p *packet) parse() error {
	hl, err := p.hdr.Unmarshal(p.buf[:p.n])
	if err != nil {
		return err
	}
	end := p.n
	if p.hdr.Padding {
		end -= int(p.hdr.PaddingSize)
	}
	if end < hl {
		end = hl
	}
	p.payload = p.buf[hl:end]
	return nil
}

// packetCache keeps the last packets of one layer for answering NACKs. A
// mutex per cache (per up-track layer) is cheap: the read loop and the rare
// NACK are its only users.
type packetCache struct {
	mu    sync.Mutex
	slots []*packet
}

func newPacketCache(size int) *packetCache {
	return &packetCache{slots: make([]*packet, size)}
}

func (c *packetCache) add(p *packet) {
	c.mu.Lock()
	if len(c.slots) == 0 {
		c.mu.Unlock()
		return
	}
	p.retain()
	i := int(p.hdr.SequenceNumber) % len(c.slots)
	old := c.slots[i]
	c.slots[i] = p
	c.mu.Unlock()
	if old != nil {
		old.release()
	}
}

// get returns the cached packet with this sequence number, retained, or nil.
func (c *packetCache) get(seq uint16) *packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.slots) == 0 {
		return nil
	}
	p := c.slots[int(seq)%len(c.slots)]
	if p == nil || p.hdr.SequenceNumber != seq {
		return nil
	}
	p.retain()
	return p
}

func (c *packetCache) clear() {
	c.mu.Lock()
	slots := c.slots
	c.slots = nil
	c.mu.Unlock()
	for _, p := range slots {
		if p != nil {
			p.release()
		}
	}
}
