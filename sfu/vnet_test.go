package sfu

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
)

// TestNACKRecoveryOverLossyLink runs the SFU and two clients on Pion's
// virtual network and loses every 10th datagram from the SFU to the
// subscriber on the wire (encrypted, before SRTP: real loss). The
// subscriber NACKs, the SFU answers from its packet cache, and nothing is
// missing in the end.
func TestNACKRecoveryOverLossyLink(t *testing.T) {
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	newNet := func(ip string) *vnet.Net {
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatal(err)
		}
		if err := wan.AddNet(n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	sfuNet, aliceNet, bobNet := newNet("10.0.0.1"), newNet("10.0.0.2"), newNet("10.0.0.3")
	var lossy atomic.Bool
	var count, lost atomic.Int64
	wan.AddChunkFilter(func(c vnet.Chunk) bool {
		if !lossy.Load() || c.SourceAddr().(*net.UDPAddr).IP.String() != "10.0.0.1" ||
			c.DestinationAddr().(*net.UDPAddr).IP.String() != "10.0.0.3" {
			return true
		}
		if count.Add(1)%10 == 0 {
			lost.Add(1)
			return false
		}
		return true
	})
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = wan.Stop() }()

	s := newTestSFU(t, func(c *Config) {
		c.ListenIP, c.IncludeLoopback, c.ICETCPPort, c.net = "10.0.0.1", false, -1, sfuNet
	})
	r := openRoom(t, s, "r1")
	on := func(n *vnet.Net) clientOpts {
		return clientOpts{settings: func(se *webrtc.SettingEngine) {
			se.SetNet(n)
			se.SetInterfaceFilter(nil)
			se.SetIncludeLoopbackCandidate(false)
		}}
	}
	alice := newClient(t, r, "alice", on(aliceNet))
	bob := newClient(t, r, "bob", on(bobNet))
	onTimeout = func() { dump(t, s, alice, bob) }
	alice.publish(pubOpts{kind: KindCamera})
	eventually(t, "bob receives video over the virtual network", func() bool {
		v := bob.received("alice", KindCamera)
		return v != nil && v.packets.Load() >= 20
	})

	lossy.Store(true)
	v := bob.received("alice", KindCamera)
	from := v.packets.Load()
	eventually(t, "losses answered from the cache", func() bool {
		return lost.Load() >= 10 && s.Stats().Retransmitted >= 5 && v.packets.Load() >= from+200
	})
	lossy.Store(false)
	eventually(t, "no hole left after the lossy stretch", func() bool {
		seqs, _ := v.snapshot()
		have := map[uint16]bool{}
		for _, q := range seqs {
			have[q] = true
		}
		first, last := seqs[from], seqs[len(seqs)-1]
		for q := first; q != last-30; q++ {
			if !have[q] {
				return false
			}
		}
		return true
	})
}
