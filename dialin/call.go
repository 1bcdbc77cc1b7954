package dialin

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"aula/room"
)

// phase of a call.
type phase int

const (
	phasePIN    phase = iota // collecting the PIN
	phaseCheck               // a PIN is being checked
	phaseLobby               // in the meeting's lobby, waiting for a moderator
	phaseJoined              // in the room, audio bridged
	phaseEnding              // playing the last prompt, then BYE
)

// call is one phone call. Everything it owns is touched only by its run
// loop (one select loop per call); other goroutines reach it through
// channels: RTP packets, INFO digits, room events, the PIN check result.
type call struct {
	g      *Gateway
	id     string
	log    *slog.Logger
	dlg    *sipgo.DialogServerSession
	rtp    *rtpConn
	codec  codec
	pt     uint8
	dtmfPT int // -1 when telephone-event was not negotiated
	answer []byte

	source    netip.Addr
	callerKey string // gateway-wide keyed hash of the number ("" if withheld)
	digits    string // the number, only until the caller's identity is made
	withheld  bool
	// leavePending ends the call's count among calls without a right PIN
	// (admission.enter); safe to call more than once.
	leavePending func()

	in      chan inPacket
	info    chan byte
	events  chan room.Event
	checked chan checkResult
	stop    chan struct{}
	stopOne sync.Once
	done    chan struct{}
	// onEnd takes the call out of the gateway's list, just before done.
	onEnd func()

	// Loop state.
	phase        phase
	prompt       []byte // μ-law still to play
	afterPrompt  func()
	pin          []byte
	tries        int
	swallowHash  bool
	pinDeadline  time.Time
	waitReplay   time.Time
	lastRTP      time.Time
	jitter       *jitterBuffer
	pcmIn        []int16
	tones        toneDetector
	events4733   eventTracker
	sawDigitPkts bool // the phone signals keys out of band; ignore tones
	hangupNow    bool
	meetingKey   string
	member       *room.Member
	self         atomic.Pointer[string] // the participant ID, set before Attach (read by Notify)
	media        Media
	mix          *mixer
	enc          *opusEncoder
	sending      bool
	roomEnded    bool
	outBuf       []byte
}

type checkResult struct {
	meetingKey string
	ok         bool
	limited    error // the check was not made: its budget is used up
	// member is the caller's participant after a right PIN (nil when the
	// meeting could not be joined: attachErr says why).
	member    *room.Member
	attachErr error
}

func newCall(g *Gateway, dlg *sipgo.DialogServerSession, rc *rtpConn, cd Format, dtmf *Format, src netip.Addr, callerKey, digits string, withheld bool) *call {
	id := room.NewID()[:12]
	c := &call{
		g: g, id: id, log: g.log.With("call", id), dlg: dlg, rtp: rc,
		codec: codecFor(cd), pt: cd.PT, dtmfPT: -1,
		source: src, callerKey: callerKey, digits: digits, withheld: withheld, leavePending: func() {},
		in: make(chan inPacket, 64), info: make(chan byte, 16), events: make(chan room.Event, 64),
		checked: make(chan checkResult), stop: make(chan struct{}), done: make(chan struct{}),
		jitter: newJitterBuffer(), outBuf: make([]byte, 0, phoneFrame),
	}
	if dtmf != nil {
		c.dtmfPT = int(dtmf.PT)
	}
	return c
}

// hangup asks the call to end with a BYE.
func (c *call) hangup() { c.stopOne.Do(func() { close(c.stop) }) }

func (c *call) infoDigit(d byte) {
	select {
	case c.info <- d:
	default:
	}
}

// Notify is the room.Listener of the caller's participant. A phone has
// no roster and no chat, so only events about the caller themself are
// queued: a class arriving or leaving at once must not fill the queue. A
// full queue means the call loop is stuck; the call is ended rather than
// the room blocked.
func (c *call) Notify(e room.Event) {
	switch e.Type {
	case room.EventJoined, room.EventLeft, room.EventChat:
		return
	case room.EventUpdated:
		if self := c.self.Load(); e.Participant == nil || self == nil || e.Participant.ID != *self {
			return
		}
	}
	select {
	case c.events <- e:
	default:
		c.log.Warn("room event queue full, ending call")
		c.hangup()
	}
}

// reinvite answers a re-INVITE of the running call with the same answer.
func (c *call) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewSDPResponseFromRequest(req, c.answer)
	if err := tx.Respond(res); err != nil {
		c.log.Debug("answer re-INVITE", "err", err)
	}
}

// run answers the call and loops until it ends.
func (c *call) run() {
	defer func() {
		if c.onEnd != nil {
			c.onEnd()
		}
		close(c.done)
	}()
	defer c.rtp.close()
	go c.rtp.readLoop(c.in)
	if err := c.dlg.Respond(100, "Trying", nil); err != nil {
		c.log.Debug("100 trying", "err", err)
	}
	if err := c.dlg.RespondSDP(c.answer); err != nil {
		c.log.Info("call not established", "err", err)
		c.dlg.Close()
		return
	}
	c.g.stats.accepted.Add(1)
	c.lastRTP = time.Now()
	c.startPIN(promptWelcome)
	byeSent := c.loop()
	c.cleanup(byeSent)
}

// loop is the call's one select loop. It returns whether the remote
// already ended the dialog.
func (c *call) loop() (remoteBye bool) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	ctx := c.dlg.Context()
	for {
		select {
		case <-ctx.Done():
			return true
		case <-c.stop:
			return ctx.Err() != nil
		case p := <-c.in:
			c.onPacket(p)
		case d := <-c.info:
			c.sawDigitPkts = true
			c.onDigit(d)
		case e := <-c.events:
			c.onEvent(e)
		case r := <-c.checked:
			c.onChecked(r)
		case now := <-tick.C:
			c.onTick(now)
		}
		if c.hangupNow {
			return false
		}
	}
}

func (c *call) cleanup(remoteBye bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c.member != nil && !c.roomEnded {
		c.member.Detach(ctx)
	}
	if c.media != nil {
		if err := c.media.Close(); err != nil {
			c.log.Debug("close media", "err", err)
		}
	}
	if !remoteBye {
		// The caller's own BYE may cross ours: once the dialog ends, stop
		// waiting for an answer that will not come.
		stop := context.AfterFunc(c.dlg.Context(), cancel)
		defer stop()
		if err := c.dlg.Bye(ctx); err != nil {
			c.log.Debug("bye", "err", err)
		}
	}
	c.dlg.Close()
	c.log.Info("call ended", "remote_hangup", remoteBye)
}

// play starts a prompt (replacing one that plays); then runs when it ends.
func (c *call) play(name string, then func()) {
	c.prompt = c.g.prompt[name]
	c.afterPrompt = then
}

// endWith plays a last prompt and hangs up.
func (c *call) endWith(name string) {
	c.phase = phaseEnding
	c.play(name, func() { c.hangupNow = true })
}

func (c *call) startPIN(prompt string) {
	c.phase = phasePIN
	c.pin = c.pin[:0]
	c.play(prompt, func() { c.pinDeadline = time.Now().Add(c.g.cfg.PINTimeout) })
	c.pinDeadline = time.Time{}
}

func (c *call) onPacket(p inPacket) {
	c.lastRTP = time.Now()
	if c.dtmfPT >= 0 && int(p.pt) == c.dtmfPT {
		ev, err := ParseTelephoneEvent(p.payload)
		if err != nil {
			return
		}
		c.sawDigitPkts = true
		if d, ok := c.events4733.feed(p.ts, ev); ok {
			c.onDigit(d)
		}
		return
	}
	if p.pt != c.pt {
		return // comfort noise and anything not negotiated
	}
	c.jitter.push(p.seq, p.payload)
}

func (c *call) onTick(now time.Time) {
	// Caller → room.
	// Packets may carry 10 to 30 ms (ptime): take as many as make a frame.
	for i := 0; i < 4 && len(c.pcmIn) < phoneFrame; i++ {
		payload := c.jitter.pop()
		if payload == nil {
			break
		}
		c.pcmIn = c.codec.decode(payload, c.pcmIn)
	}
	if len(c.pcmIn) >= phoneFrame {
		frame := c.pcmIn[:phoneFrame]
		if !c.sawDigitPkts {
			var keys [4]byte
			for _, d := range c.tones.feed(frame, keys[:0]) {
				c.onDigit(d)
			}
		}
		if c.phase == phaseJoined && c.sending && c.enc != nil && c.media != nil {
			if op, level, err := c.enc.encode(frame); err == nil {
				if err := c.media.PublishOpus(op, level); err != nil {
					c.log.Debug("publish", "err", err)
				}
			}
		}
		c.pcmIn = append(c.pcmIn[:0], c.pcmIn[phoneFrame:]...)
	}
	// Room or prompt → caller, paced by this tick.
	c.outBuf = c.outBuf[:0]
	switch {
	case len(c.prompt) > 0:
		n := min(phoneFrame, len(c.prompt))
		for _, b := range c.prompt[:n] {
			c.outBuf = append(c.outBuf, c.codec.fromUlaw(b))
		}
		for len(c.outBuf) < phoneFrame {
			c.outBuf = append(c.outBuf, c.codec.fromUlaw(0xff))
		}
		c.prompt = c.prompt[n:]
		if len(c.prompt) == 0 && c.afterPrompt != nil {
			f := c.afterPrompt
			c.afterPrompt = nil
			f()
		}
	case c.mix != nil:
		pcm, _ := c.mix.frame()
		c.outBuf = c.codec.encode(pcm, c.outBuf)
	default:
		for i := 0; i < phoneFrame; i++ {
			c.outBuf = append(c.outBuf, c.codec.fromUlaw(0xff))
		}
	}
	if err := c.rtp.send(c.pt, c.outBuf, phoneFrame, false); err != nil {
		c.log.Debug("rtp send", "err", err)
	}
	// Timers.
	if c.g.cfg.RTPTimeout > 0 && now.Sub(c.lastRTP) > c.g.cfg.RTPTimeout {
		c.log.Info("no RTP from caller, hanging up", "timeout", c.g.cfg.RTPTimeout)
		c.hangupNow = true
		return
	}
	if c.phase == phasePIN && !c.pinDeadline.IsZero() && now.After(c.pinDeadline) {
		c.submitPIN()
	}
	if c.phase == phaseLobby && len(c.prompt) == 0 && !c.waitReplay.IsZero() && now.After(c.waitReplay) {
		c.playWait()
	}
}

func (c *call) playWait() {
	c.waitReplay = time.Time{}
	c.play(promptWait, func() { c.waitReplay = time.Now().Add(20 * time.Second) })
}

func (c *call) onDigit(d byte) {
	switch c.phase {
	case phasePIN:
		// Barge-in: a key stops the prompt.
		if c.afterPrompt != nil || len(c.prompt) > 0 {
			c.prompt, c.afterPrompt = nil, nil
		}
		c.pinDeadline = time.Now().Add(c.g.cfg.PINTimeout)
		switch {
		case d >= '0' && d <= '9':
			c.swallowHash = false
			c.pin = append(c.pin, d)
			if len(c.pin) >= 5 {
				c.swallowHash = true
				c.submitPIN()
			}
		case d == '#':
			if len(c.pin) == 0 && c.swallowHash {
				c.swallowHash = false // the # after a full 5-digit PIN
				return
			}
			c.submitPIN()
		case d == '*':
			c.pin = c.pin[:0]
		}
	case phaseJoined:
		if d == '0' {
			c.toggleMute()
		}
	}
}

// submitPIN checks the collected digits. The check is paid for from the
// budgets before the PIN is looked up (admission.spend), so no number of
// parallel calls gets more checks than the budgets hold. Every check takes
// the same fixed time (PINAnswerTime) from then on, whether the PIN exists
// or not, the candidate is compared in constant time, and the PIN is never
// logged. A wait for the reserve comes before and tells nothing of the PIN.
func (c *call) submitPIN() {
	pin := string(c.pin)
	c.pin = c.pin[:0]
	c.pinDeadline = time.Time{}
	c.phase = phaseCheck
	g, wait := c.g, c.g.cfg.PINAnswerTime
	src, key := c.source, c.callerKey
	digits, withheld := c.digits, c.withheld
	go func() {
		t, err := g.adm.spend(src, key, c.done)
		if errors.Is(err, errAbandoned) {
			return
		}
		deadline := time.NewTimer(wait)
		defer deadline.Stop()
		var res checkResult
		if err != nil {
			res.limited = err
		} else {
			g.stats.pinChecks.Add(1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if room.ValidPIN(pin) {
				if mt, err := g.mgr.MeetingByPIN(ctx, pin); err == nil {
					res.ok = subtle.ConstantTimeCompare([]byte(mt.PIN), []byte(pin)) == 1
					res.meetingKey = mt.Key
				}
			}
			if res.ok {
				g.adm.refund(t)
				// Joining may read the store (a meeting adopted here):
				// done here, off the call's 20 ms loop, like the check.
				res.member, res.attachErr = c.attach(ctx, res.meetingKey, digits, withheld)
			}
			cancel()
		}
		// The call may end (the caller hangs up) while this runs: then
		// the participant just made must not stay behind as a ghost.
		gone := func() {
			if res.member != nil {
				dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				res.member.Detach(dctx)
				cancel()
			}
		}
		select {
		case <-deadline.C:
		case <-c.done:
			gone()
			return
		}
		select {
		case c.checked <- res:
		case <-c.done:
			gone()
		}
	}()
}

func (c *call) onChecked(r checkResult) {
	if c.phase != phaseCheck {
		return
	}
	if r.limited != nil {
		c.g.stats.pinLimited.Add(1)
		// One "call refused" line per refusal, with the source and never
		// the number or the PIN, for fail2ban-style monitoring.
		c.log.Info("call refused", "source", c.source.String(), "reason", r.limited)
		c.endWith(promptGoodbye)
		return
	}
	if r.ok && c.join(r) {
		return
	}
	c.tries++
	c.g.stats.pinFailures.Add(1)
	// No point asking for another PIN that could not be checked.
	limited := c.g.adm.mayCall(c.source, c.callerKey)
	if c.tries >= c.g.cfg.PINTries || limited != nil {
		c.log.Info("call refused", "source", c.source.String(), "reason", "wrong PIN", "tries", c.tries, "rate_limited", limited != nil)
		c.endWith(promptGoodbye)
		return
	}
	c.log.Info("wrong PIN", "tries", c.tries)
	c.startPIN(promptWrongPIN)
}

// attach makes the caller a participant of the meeting. It runs off the
// call's loop (submitPIN's goroutine) and touches only what is safe there:
// the atomic self pointer that Notify reads.
func (c *call) attach(ctx context.Context, key, digits string, withheld bool) (*room.Member, error) {
	name, userID := c.g.secrets.identity(key, digits, withheld)
	id := room.Identity{ParticipantID: room.NewID(), Name: name, Role: room.Viewer, Kind: room.Phone, UserID: userID}
	c.self.Store(&id.ParticipantID)
	return c.g.mgr.Attach(ctx, key, id, c)
}

// join takes the result of a right PIN on the call's loop; false means the
// meeting could not be joined (it ended in the meantime, is full, or
// banned this caller), which the caller hears as a wrong PIN.
func (c *call) join(r checkResult) bool {
	c.digits = ""
	if r.attachErr != nil {
		c.log.Info("cannot join meeting", "err", r.attachErr)
		return false
	}
	m, key := r.member, r.meetingKey
	ctx := context.Background() // Snapshot reads memory only
	c.member, c.meetingKey = m, key
	c.leavePending() // a right PIN: no longer counted against the caps
	// Attach may keep an earlier participant of the same phone (a redial).
	mid := m.ID()
	c.self.Store(&mid)
	c.log = c.log.With("meeting", key, "participant", m.ID())
	snap, err := m.Snapshot(ctx)
	if err != nil {
		c.log.Warn("snapshot", "err", err)
		c.hangupNow = true
		return true
	}
	if !snap.Self.InRoom {
		c.log.Info("caller waits in the lobby")
		c.phase = phaseLobby
		c.playWait()
		return true
	}
	c.enterRoom(!snap.Self.Muted)
	return true
}

// enterRoom opens the media and starts the bridge.
func (c *call) enterRoom(unmute bool) {
	c.phase = phaseJoined
	c.waitReplay = time.Time{}
	c.log.Info("caller joined the room")
	if c.g.media != nil {
		md, err := c.g.media(c.meetingKey, c.member.ID())
		if err != nil {
			c.log.Warn("open media; the caller stays without audio", "err", err)
		} else if enc, err := newOpusEncoder(); err != nil {
			c.log.Warn("opus encoder", "err", err)
			md.Close()
		} else {
			c.media, c.enc = md, enc
			c.mix = newMixer(c.member.ID())
			md.OnOpus(c.mix.push)
		}
	}
	c.play(promptJoined, nil)
	if unmute {
		c.setSending(true)
	}
	c.applyMute()
}

// applyMute tells a Muter media whether the caller is heard.
func (c *call) applyMute() {
	if m, ok := c.media.(Muter); ok {
		m.SetMuted(!c.sending)
	}
}

func (c *call) setSending(on bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.member.SetMedia(ctx, room.MediaState{Audio: on}); err != nil {
		c.log.Warn("set media", "err", err)
		return false
	}
	c.sending = on
	c.applyMute()
	return true
}

func (c *call) toggleMute() {
	if c.sending {
		if c.setSending(false) {
			c.play(promptMuted, nil)
		}
		return
	}
	if c.setSending(true) {
		c.play(promptUnmuted, nil)
	}
}

func (c *call) onEvent(e room.Event) {
	switch e.Type {
	case room.EventAdmitted:
		if c.phase == phaseLobby {
			c.prompt, c.afterPrompt = nil, nil
			// muteOnStart decides whether the caller starts muted.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			snap, err := c.member.Snapshot(ctx)
			cancel()
			c.enterRoom(err == nil && !snap.Self.Muted)
		}
	case room.EventUpdated:
		if e.Participant == nil || c.member == nil || e.Participant.ID != c.member.ID() {
			return
		}
		on := e.Participant.Audio && !e.Participant.Muted
		if c.sending && !on && e.Participant.Muted && c.phase == phaseJoined {
			c.log.Info("caller muted by a moderator")
			c.play(promptMuted, nil)
		}
		c.sending = on
		c.applyMute()
	case room.EventRemoved, room.EventReplaced:
		c.log.Info("caller removed from the room", "event", string(e.Type))
		c.roomEnded = true // nothing left to detach
		c.hangupNow = true
	case room.EventEnded:
		c.roomEnded = true
		c.sending = false
		if c.media != nil {
			c.media.Close()
			c.media, c.mix = nil, nil
		}
		c.endWith(promptEnded)
	}
}

var _ room.Listener = (*call)(nil)
