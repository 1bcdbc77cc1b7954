package dialin

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// The call latches to the port the caller really sends from, but only a
// packet from the SDP's or the SIP peer's address may latch.
func TestRTPLatching(t *testing.T) {
	rc, err := listenRTP(netip.MustParseAddr("127.0.0.1"), 30000, 39999)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	in := make(chan inPacket, 8)
	go rc.readLoop(in)
	sdp := netip.MustParseAddrPort("127.0.0.1:9") // what the offer said
	rc.setRemote(sdp, netip.MustParseAddr("127.0.0.1"))
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rc.port()}
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1}, Payload: []byte{1}}).Marshal()

	stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	defer stranger.Close()
	stranger.WriteTo(pkt, to)
	caller, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	caller.WriteTo(pkt, to)
	stranger.WriteTo(pkt, to)

	select {
	case <-in:
	case <-time.After(5 * time.Second):
		t.Fatal("the caller's packet was not delivered")
	}
	want := caller.LocalAddr().(*net.UDPAddr).AddrPort()
	if got := rc.target(); got != want {
		t.Errorf("latched to %v, want the caller's %v", got, want)
	}
	select {
	case p := <-in:
		t.Errorf("a stranger's packet was delivered: %+v", p)
	default:
	}
	// Sending now goes to the latched address.
	if err := rc.send(0, []byte{0xff}, phoneFrame, false); err != nil {
		t.Fatal(err)
	}
	caller.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	if _, err := caller.Read(buf); err != nil {
		t.Errorf("caller got nothing back: %v", err)
	}
}
