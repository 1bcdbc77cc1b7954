package loadgen

import (
	"net"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// bufferedNet gives every client socket a larger receive buffer. The
// generator plays hundreds of browsers on the machine that also runs the
// server; when the scheduler leaves a client's read loop waiting for a few
// hundred milliseconds, the kernel's default buffer (about 200 KB) would
// drop what a browser on its own machine would have read in time. The
// kernel caps the size at net.core.rmem_max; drops that remain are
// counted (sysStat) and reported.
type bufferedNet struct {
	*stdnet.Net
	rcvbuf int
}

func newBufferedNet(rcvbuf int) (transport.Net, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &bufferedNet{Net: n, rcvbuf: rcvbuf}, nil
}

func (n *bufferedNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err == nil && n.rcvbuf > 0 {
		_ = c.SetReadBuffer(n.rcvbuf)
	}
	return c, err
}
