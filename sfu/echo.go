package sfu

// The echo test: a participant checking their devices hears their own
// microphone back through the whole path, browser → SFU → browser (as
// BigBlueButton does through FreeSWITCH). While it is on, the peer's own
// microphone up tracks are added to its subscribe PeerConnection like any
// other participant's track (announced in the offer with the peer's own
// participant ID and kind "mic"). The echo down track hangs in its up
// track's echo slot, not in the subscriber list, so that it bypasses the
// forwarding gates (StopForwarding, the speech gate) without opening them
// for anyone else: the echo never makes the participant audible to others,
// nor marks them as speaking.
//
// The state lives on the subscribe queue like every subscription change;
// its end is the queue's echo timer, so the echo needs no goroutine and
// ends with the peer.

// SetEcho switches the echo test on or off. On, the peer receives its own
// microphone (published now or later) on its subscribe PeerConnection,
// whatever is forwarded to others, until SetEcho(false), the peer closes,
// or Config.EchoTimeout (15 s by default) has passed since it was switched
// on, whichever comes first. Switching it on while it is on keeps the
// original deadline, so the limit holds; off while off changes nothing.
// The change is renegotiated at once (a new subscribe offer). It fails
// with ErrClosed for a closed peer and ErrQueueFull when the negotiation
// queue is full; a phone caller (LocalPeer) has no echo.
func (p *Peer) SetEcho(on bool) error {
	return p.subQ.call(func() error {
		if p.local != nil || on == p.echoOn.Load() {
			return nil
		}
		p.echoOn.Store(on)
		if on {
			p.subQ.echo.arm(p.room.sfu.echoTimeout(), p.echoTimedOut)
			p.log.Debug("echo test on")
		} else {
			p.subQ.echo.cancel()
			p.log.Debug("echo test off")
		}
		p.sync()
		return nil
	})
}

// Echo reports whether the echo test is on.
func (p *Peer) Echo() bool { return p.echoOn.Load() }

// echoTimedOut runs on the subscribe queue when the echo test has lasted
// Config.EchoTimeout: it ends the echo as SetEcho(false) does.
func (p *Peer) echoTimedOut() {
	if !p.echoOn.Load() {
		return
	}
	p.echoOn.Store(false)
	p.log.Debug("echo test ended by its time limit", "limit", p.room.sfu.echoTimeout())
	p.sync()
}

// wantsOwn reports whether the peer subscribes to its own up track u: only
// its microphone, only during the echo test. Every other own track stays
// out of its subscriptions whatever the Policy says (a room's policy lets
// anyone "receive" themselves).
func (p *Peer) wantsOwn(u *upTrack) bool {
	return u.kind == KindMic && p.local == nil && p.echoOn.Load()
}
