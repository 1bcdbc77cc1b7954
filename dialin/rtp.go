package dialin

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/pion/rtp"
)

// rtpConn is one call's RTP socket. It sends to the address of the SDP
// offer until the caller's first packet arrives, then latches to the
// source that packet came from (symmetric RTP, RFC 4961), which is what
// gets through the NAT in front of many trunks. Only a packet from the
// SDP's address or the SIP peer's address may latch, so a stranger who
// guesses the port cannot take the call's audio; packets from elsewhere
// are dropped.
type rtpConn struct {
	conn *net.UDPConn

	mu      sync.Mutex
	remote  netip.AddrPort
	latched bool
	trusted []netip.Addr

	// Sender state, used only by the call loop.
	ssrc uint32
	seq  uint16
	ts   uint32
	buf  []byte
}

// listenRTP binds an even UDP port in [min, max] on ip, starting at a
// random place in the range so concurrent calls rarely collide.
func listenRTP(ip netip.Addr, min, max int) (*rtpConn, error) {
	n := (max - min) / 2
	if n <= 0 {
		n = 1
	}
	off, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		port := min + 2*((int(off.Int64())+i)%n)
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			continue
		}
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			c.Close()
			return nil, err
		}
		return &rtpConn{
			conn: c, ssrc: binary.BigEndian.Uint32(r[:4]),
			seq: binary.BigEndian.Uint16(r[4:6]), ts: uint32(binary.BigEndian.Uint16(r[6:8])) << 8,
			buf: make([]byte, 1500),
		}, nil
	}
	return nil, fmt.Errorf("%w: %d-%d", ErrNoPort, min, max)
}

func (c *rtpConn) port() int { return int(c.conn.LocalAddr().(*net.UDPAddr).Port) }

// setRemote sets where to send before latching; peers are the addresses
// allowed to latch (the SDP's and the SIP peer's).
func (c *rtpConn) setRemote(a netip.AddrPort, peers ...netip.Addr) {
	c.mu.Lock()
	if !c.latched {
		c.remote = a
	}
	c.trusted = append(c.trusted[:0], a.Addr().Unmap())
	for _, p := range peers {
		c.trusted = append(c.trusted, p.Unmap())
	}
	c.mu.Unlock()
}

func (c *rtpConn) target() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote
}

// inPacket is a received RTP packet handed to the call loop.
type inPacket struct {
	pt      uint8
	seq     uint16
	ts      uint32
	marker  bool
	payload []byte
}

// readLoop reads until the socket closes, handing packets to out without
// blocking (a full queue drops: the call loop is behind, and late audio is
// worthless).
func (c *rtpConn) readLoop(out chan<- inPacket) {
	buf := make([]byte, 1500)
	for {
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil || p.Version != 2 {
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		c.mu.Lock()
		if !c.latched && slices.Contains(c.trusted, from.Addr()) {
			c.remote, c.latched = from, true
		} else if from != c.remote {
			c.mu.Unlock()
			continue
		}
		c.mu.Unlock()
		select {
		case out <- inPacket{pt: p.PayloadType, seq: p.SequenceNumber, ts: p.Timestamp, marker: p.Marker, payload: append([]byte(nil), p.Payload...)}:
		default:
		}
	}
}

// send writes one packet of samples duration (in 8 kHz ticks).
func (c *rtpConn) send(pt uint8, payload []byte, samples uint32, marker bool) error {
	to := c.target()
	if !to.IsValid() || to.Port() == 0 {
		c.ts += samples
		return nil
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: c.seq, Timestamp: c.ts, SSRC: c.ssrc, Marker: marker}, Payload: payload}
	n, err := p.MarshalTo(c.buf)
	c.seq++
	c.ts += samples
	if err != nil {
		return err
	}
	_, err = c.conn.WriteToUDPAddrPort(c.buf[:n], to)
	return err
}

func (c *rtpConn) close() error { return c.conn.Close() }

// jitterBuffer reorders the caller's audio packets and releases one per
// 20 ms tick. It prebuffers two packets (40 ms) and skips a missing packet
// once later ones are waiting.
type jitterBuffer struct {
	pkts    map[uint16][]byte
	next    uint16
	started bool
}

const (
	jitterPrebuffer = 2
	jitterMax       = 50 // 1 s; beyond it the stream restarted, start over
)

func newJitterBuffer() *jitterBuffer { return &jitterBuffer{pkts: map[uint16][]byte{}} }

func (j *jitterBuffer) push(seq uint16, payload []byte) {
	if j.started && int16(seq-j.next) < 0 {
		return // late: its slot was already played
	}
	if len(j.pkts) >= jitterMax {
		clear(j.pkts)
		j.started = false
	}
	if !j.started && len(j.pkts) == 0 {
		j.next = seq
	}
	if !j.started && int16(seq-j.next) < 0 {
		j.next = seq
	}
	j.pkts[seq] = payload
}

// pop returns the next payload, or nil when there is none to play now.
func (j *jitterBuffer) pop() []byte {
	if !j.started {
		if len(j.pkts) < jitterPrebuffer {
			return nil
		}
		j.started = true
	}
	if p, ok := j.pkts[j.next]; ok {
		delete(j.pkts, j.next)
		j.next++
		return p
	}
	if len(j.pkts) == 0 {
		j.started = false // underrun: prebuffer again
		return nil
	}
	j.next++ // lost: later packets are waiting
	return nil
}
