package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// live is a meeting running on this node. Its mutex guards the roster and
// serialises the meeting's store writes; listeners are notified only after
// it is released.
type live struct {
	mgr *Manager

	// filesMu orders StoreFile against the end's wipe of the files.
	filesMu sync.Mutex

	mu        sync.Mutex
	mt        *Meeting
	parts     map[string]*member
	banned    map[string]bool
	denied    map[string]bool // guests a moderator refused (guest.go)
	ended     bool
	gen       uint64
	lastTouch time.Time
}

type member struct {
	p   *Participant
	l   Listener
	gen uint64
}

type delivery struct {
	l Listener
	e Event
}

func newLive(m *Manager, mt *Meeting) *live {
	return &live{mgr: m, mt: mt, parts: map[string]*member{}, banned: map[string]bool{}, denied: map[string]bool{}, lastTouch: m.cfg.Now()}
}

// stateBanned names the feature state holding the IDs of participants a
// moderator removed.
const stateBanned = "banned"

// bannedJSON encodes the removed participants' IDs; the caller holds l.mu.
func (l *live) bannedJSON() []byte {
	ids := make([]string, 0, len(l.banned))
	for id := range l.banned {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b, _ := json.Marshal(ids)
	return b
}

func deliver(ds []delivery) {
	for _, d := range ds {
		if d.l != nil {
			d.l.Notify(d.e)
		}
	}
}

// canSee applies "participants cannot see each other": viewers see only
// moderators and themselves.
func (l *live) canSee(viewer, subject *Participant) bool {
	if viewer.ID == subject.ID || !l.mt.Lock.HideUserList {
		return true
	}
	return viewer.Role == Moderator || subject.Role == Moderator
}

// broadcast queues e about subject to every other in-room member who may see it.
func (l *live) broadcast(ds []delivery, subject *Participant, e Event) []delivery {
	for _, o := range l.parts {
		if o.p.ID == subject.ID || !o.p.InRoom || o.l == nil || !l.canSee(o.p, subject) {
			continue
		}
		ds = append(ds, delivery{o.l, e})
	}
	return ds
}

// meeting returns a copy of the meeting's state, or ErrEnded.
func (l *live) meeting() (*Meeting, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return nil, ErrEnded
	}
	cp := *l.mt
	return &cp, nil
}

func (l *live) participants() []*Participant {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*Participant, 0, len(l.parts))
	for _, m := range l.parts {
		cp := *m.p
		out = append(out, &cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].JoinedAt.Before(out[j].JoinedAt) })
	return out
}

func (l *live) ttl() time.Duration { return l.mgr.cfg.TTL }

func (l *live) attach(ctx context.Context, id Identity, lis Listener) (*Member, error) {
	if id.ParticipantID == "" || !id.Role.Valid() {
		return nil, fmt.Errorf("%w: identity", ErrInvalid)
	}
	now := l.mgr.cfg.Now()
	var ds []delivery
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return nil, ErrEnded
	}
	if l.banned[id.ParticipantID] {
		l.mu.Unlock()
		return nil, ErrForbidden
	}
	if l.denied[id.ParticipantID] {
		l.mu.Unlock()
		return nil, ErrDenied
	}
	l.gen++
	mem := l.parts[id.ParticipantID]
	isNew := mem == nil
	if isNew {
		if l.mt.MaxParticipants > 0 && len(l.parts) >= l.mt.MaxParticipants {
			l.mu.Unlock()
			return nil, ErrFull
		}
		kind := id.Kind
		if kind == "" {
			kind = Browser
		}
		p := &Participant{
			ID: id.ParticipantID, UserID: id.UserID, Name: id.Name, AvatarURL: id.AvatarURL,
			Role: id.Role, Kind: kind, Guest: id.Guest, JoinedAt: now, CustomData: id.CustomData,
			Muted: l.mt.MuteOnStart,
			Voice: kind == Phone,
		}
		// A guest the policy asks about waits even in a running meeting.
		p.InRoom = !l.awaitsApproval(p) && (id.Role == Moderator || l.mt.Running())
		mem = &member{p: p}
		l.parts[p.ID] = mem
	} else if mem.l != nil && mem.l != lis {
		ds = append(ds, delivery{mem.l, Event{Type: EventReplaced}})
	}
	mem.l, mem.gen = lis, l.gen
	mem.p.Connected, mem.p.Disconnected = true, time.Time{}
	changed := []*Participant{mem.p}
	meetingChanged := false
	if mem.p.Role == Moderator && !l.mt.Running() {
		// The first moderator starts the conference and lets the lobby in.
		l.mt.StartTime = now
		meetingChanged = true
		for _, o := range l.parts {
			if !o.p.InRoom && !l.awaitsApproval(o.p) {
				o.p.InRoom = true
				changed = append(changed, o.p)
				if o.l != nil && o != mem {
					ds = append(ds, delivery{o.l, Event{Type: EventAdmitted}})
				}
			}
		}
	}
	if mem.p.InRoom && !l.mt.EverJoined {
		l.mt.EverJoined = true
		meetingChanged = true
	}
	for _, p := range changed {
		if err := l.mgr.store.PutParticipant(ctx, l.mt.Key, p, l.ttl()); err != nil {
			l.mu.Unlock()
			return nil, err
		}
	}
	if meetingChanged {
		if err := l.mgr.store.UpdateMeeting(ctx, l.mt, l.ttl()); err != nil {
			l.mu.Unlock()
			return nil, err
		}
	}
	for _, p := range changed {
		if !p.InRoom {
			continue
		}
		pub := p.Public()
		typ := EventJoined
		if !isNew && p == mem.p {
			typ = EventUpdated
		}
		if p != mem.p {
			typ = EventJoined
		}
		ds = l.broadcast(ds, p, Event{Type: typ, Participant: &pub})
	}
	if !mem.p.InRoom && l.awaitsApproval(mem.p) {
		ds = l.waitingChanged(ds)
	}
	m := &Member{lv: l, id: mem.p.ID, gen: mem.gen}
	l.mu.Unlock()
	deliver(ds)
	return m, nil
}

// remove deletes a participant; the caller holds l.mu.
func (l *live) remove(ctx context.Context, ds []delivery, id string, ev EventType) ([]delivery, error) {
	mem := l.parts[id]
	if mem == nil {
		return ds, ErrNotFound
	}
	delete(l.parts, id)
	if ev != "" && mem.l != nil {
		ds = append(ds, delivery{mem.l, Event{Type: ev}})
	}
	if mem.p.InRoom {
		ds = l.broadcast(ds, mem.p, Event{Type: EventLeft, ParticipantID: id})
	} else if l.awaitsApproval(mem.p) {
		ds = l.waitingChanged(ds)
	}
	return ds, l.mgr.store.DeleteParticipant(ctx, l.mt.Key, id)
}

func (l *live) tick(ctx context.Context, now time.Time) {
	var ds []delivery
	reason := ""
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	grace := l.mgr.cfg.ReconnectGrace
	for id, mem := range l.parts {
		if !mem.p.Connected && !mem.p.Disconnected.IsZero() && now.Sub(mem.p.Disconnected) >= grace {
			var err error
			if ds, err = l.remove(ctx, ds, id, ""); err != nil {
				l.mgr.log.Warn("remove after grace", "meeting", l.mt.Key, "err", err)
			}
		}
	}
	inRoom, mods := 0, 0
	for _, mem := range l.parts {
		if mem.p.InRoom {
			inRoom++
			if mem.p.Role == Moderator {
				mods++
			}
		}
	}
	mt := l.mt
	changed := false
	switch {
	case mt.Duration > 0 && now.Sub(mt.CreateTime) >= mt.Duration:
		reason = ReasonDuration
	case !mt.EverJoined && mt.ExpireIfNoUserJoined > 0 && now.Sub(mt.CreateTime) >= mt.ExpireIfNoUserJoined:
		reason = ReasonNoUser
	}
	if mt.EverJoined && inRoom == 0 {
		if mt.LastEmpty.IsZero() {
			mt.LastEmpty, changed = now, true
		}
		if now.Sub(mt.LastEmpty) >= mt.ExpireWhenLastUserLeft && reason == "" {
			reason = ReasonEmpty
		}
	} else if !mt.LastEmpty.IsZero() {
		mt.LastEmpty, changed = time.Time{}, true
	}
	if mt.EndWhenNoModerator && mt.Running() && mods == 0 {
		if mt.NoModeratorSince.IsZero() {
			mt.NoModeratorSince, changed = now, true
		}
		if now.Sub(mt.NoModeratorSince) >= mt.EndWhenNoModeratorDelay && reason == "" {
			reason = ReasonNoModerator
		}
	} else if !mt.NoModeratorSince.IsZero() {
		mt.NoModeratorSince, changed = time.Time{}, true
	}
	if reason == "" {
		if changed {
			if err := l.mgr.store.UpdateMeeting(ctx, mt, l.ttl()); err != nil {
				l.mgr.log.Warn("update meeting", "meeting", mt.Key, "err", err)
			}
		}
		if now.Sub(l.lastTouch) >= l.ttl()/3 {
			l.lastTouch = now
			if err := l.mgr.store.Touch(ctx, mt.Key, l.ttl()); err != nil {
				l.mgr.log.Warn("refresh TTL", "meeting", mt.Key, "err", err)
			}
		}
	}
	l.mu.Unlock()
	deliver(ds)
	if reason != "" {
		if err := l.end(ctx, reason); err != nil {
			l.mgr.log.Warn("end meeting", "meeting", mt.Key, "err", err)
		}
	}
}

func (l *live) end(ctx context.Context, reason string) error {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return nil
	}
	l.ended = true
	var ds []delivery
	for _, mem := range l.parts {
		if mem.l != nil {
			ds = append(ds, delivery{mem.l, Event{Type: EventEnded, Reason: reason, LogoutURL: l.mt.LogoutURL}})
		}
	}
	key := l.mt.Key
	last := *l.mt
	l.mu.Unlock()
	deliver(ds)
	hooks, endedHooks := l.mgr.endHooks()
	for _, hook := range hooks {
		hook(key)
	}
	for _, hook := range endedHooks {
		hook(last, reason)
	}
	l.mgr.log.Info("meeting ended", "meeting", key, "reason", reason)
	// Under filesMu: a StoreFile racing the end finishes before the wipe
	// (and is removed by it) or sees the end and stores nothing.
	l.filesMu.Lock()
	err := l.mgr.wipe(ctx, key)
	l.filesMu.Unlock()
	// Forget the room only after the wipe: until then an Attach finds this
	// ended room (ErrEnded) instead of adopting the record still in the
	// store and bringing the meeting back.
	l.mgr.forget(key)
	if err != nil {
		return fmt.Errorf("wipe meeting: %w", err)
	}
	return nil
}

// Member is one attached connection's handle on its participant. Its
// methods check the participant's rights; a handle replaced by a newer
// Attach of the same participant can only Detach harmlessly.
type Member struct {
	lv  *live
	id  string
	gen uint64
}

// ID is the participant's public ID.
func (m *Member) ID() string { return m.id }

// MeetingKey is the meeting's internal key.
func (m *Member) MeetingKey() string { return m.lv.mt.Key }

// Snapshot is what a client needs on (re)connect.
type Snapshot struct {
	Meeting Meeting
	Self    Public
	Roster  []Public
	Chat    []ChatMessage
	// Waiting lists the guests waiting for approval, oldest first; only
	// for moderators in the room.
	Waiting []Public
	// AwaitingApproval is set in the lobby when one's own entry waits for
	// a moderator's approval (a guest under ASK_MODERATOR), not merely for
	// the meeting to start.
	AwaitingApproval bool
}

// errStale marks calls from a replaced handle.
var errStale = errors.New("room: connection replaced")

// self returns the member under l.mu, or an error.
func (m *Member) self() (*member, error) {
	l := m.lv
	if l.ended {
		return nil, ErrEnded
	}
	mem := l.parts[m.id]
	if mem == nil {
		return nil, ErrNotFound
	}
	if mem.gen != m.gen {
		return nil, errStale
	}
	return mem, nil
}

// Self returns the participant's current public state: cheaper than a
// Snapshot, for layers that act on it (the media layer after each update).
func (m *Member) Self() (Public, error) {
	l := m.lv
	l.mu.Lock()
	defer l.mu.Unlock()
	mem, err := m.self()
	if err != nil {
		return Public{}, err
	}
	return mem.p.Public(), nil
}

// Snapshot returns the participant's view of the meeting.
func (m *Member) Snapshot(ctx context.Context) (*Snapshot, error) {
	l := m.lv
	l.mu.Lock()
	defer l.mu.Unlock()
	mem, err := m.self()
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Meeting: *l.mt, Self: mem.p.Public()}
	if !mem.p.InRoom {
		s.AwaitingApproval = l.awaitsApproval(mem.p)
		return s, nil
	}
	if mem.p.Role == Moderator {
		s.Waiting = l.waitingList()
	}
	for _, o := range l.parts {
		if o.p.InRoom && l.canSee(mem.p, o.p) {
			s.Roster = append(s.Roster, o.p.Public())
		}
	}
	sort.Slice(s.Roster, func(i, j int) bool { return s.Roster[i].Name < s.Roster[j].Name })
	chat, err := l.mgr.store.ListChat(ctx, l.mt.Key)
	if err != nil {
		return nil, err
	}
	for _, c := range chat {
		if c.To == "" || c.To == m.id || c.From == m.id {
			s.Chat = append(s.Chat, *c)
		}
	}
	return s, nil
}

// Chat sends a public line (to == "") or a private one to participant to.
func (m *Member) Chat(ctx context.Context, to, text string) (*ChatMessage, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, fmt.Errorf("%w: empty message", ErrInvalid)
	}
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > m.lv.mgr.cfg.MaxChatRunes {
		return nil, fmt.Errorf("%w: message too long or not UTF-8", ErrInvalid)
	}
	if err := plainText(text); err != nil {
		return nil, err
	}
	l := m.lv
	l.mu.Lock()
	mem, err := m.self()
	if err != nil {
		l.mu.Unlock()
		return nil, err
	}
	p := mem.p
	if !p.InRoom {
		l.mu.Unlock()
		return nil, ErrNotInRoom
	}
	viewer := p.Role == Viewer
	var target *member
	if to != "" {
		target = l.parts[to]
		if target == nil || !target.p.InRoom || to == p.ID || !l.canSee(p, target.p) {
			l.mu.Unlock()
			return nil, fmt.Errorf("%w: no such recipient", ErrNotFound)
		}
		if viewer && l.mt.Lock.DisablePrivChat && target.p.Role != Moderator {
			l.mu.Unlock()
			return nil, fmt.Errorf("%w: private chat is locked", ErrForbidden)
		}
	} else if viewer && l.mt.Lock.DisablePublicChat {
		l.mu.Unlock()
		return nil, fmt.Errorf("%w: public chat is locked", ErrForbidden)
	}
	msg := &ChatMessage{ID: NewID(), From: p.ID, FromName: p.Name, To: to, Text: text, Time: l.mgr.cfg.Now().UTC()}
	if err := l.mgr.store.AppendChat(ctx, l.mt.Key, msg, l.mgr.cfg.MaxChatLines, l.ttl()); err != nil {
		l.mu.Unlock()
		return nil, err
	}
	var ds []delivery
	if target != nil {
		ds = append(ds, delivery{mem.l, Event{Type: EventChat, Chat: msg}}, delivery{target.l, Event{Type: EventChat, Chat: msg}})
	} else {
		for _, o := range l.parts {
			if o.p.InRoom && o.l != nil {
				ds = append(ds, delivery{o.l, Event{Type: EventChat, Chat: msg}})
			}
		}
	}
	l.mu.Unlock()
	deliver(ds)
	return msg, nil
}

// plainText refuses control characters other than line breaks and tabs
// (NUL, escape sequences, bidi overrides' C0/C1 neighbours): as the API
// does for its parameters, text that reaches other people's screens is
// text.
func plainText(s string) error {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return fmt.Errorf("%w: control characters are not allowed", ErrInvalid)
		}
	}
	return nil
}

// update applies f to participant id (under the lock), stores it and tells
// the room. actorMod requires the caller to be a moderator.
func (m *Member) update(ctx context.Context, id string, actorMod bool, f func(p *Participant) error) error {
	l := m.lv
	l.mu.Lock()
	mem, err := m.self()
	if err != nil {
		l.mu.Unlock()
		return err
	}
	if !mem.p.InRoom {
		l.mu.Unlock()
		return ErrNotInRoom
	}
	if actorMod && mem.p.Role != Moderator {
		l.mu.Unlock()
		return ErrForbidden
	}
	target := l.parts[id]
	if target == nil || !target.p.InRoom {
		l.mu.Unlock()
		return fmt.Errorf("%w: participant", ErrNotFound)
	}
	before := *target.p
	if err := f(target.p); err != nil {
		*target.p = before
		l.mu.Unlock()
		return err
	}
	if err := l.mgr.store.PutParticipant(ctx, l.mt.Key, target.p, l.ttl()); err != nil {
		*target.p = before // the change did not happen
		l.mu.Unlock()
		return err
	}
	pub := target.p.Public()
	// A role change under "participants cannot see each other" changes who
	// sees whom: observers learn it as a join or a leave, so their rosters
	// match what a fresh Snapshot would show.
	var ds []delivery
	for _, o := range l.parts {
		if o == target || !o.p.InRoom || o.l == nil {
			continue
		}
		ds = visibility(ds, o.l, l.canSee(o.p, &before), l.canSee(o.p, target.p), target.p.ID, &pub, EventUpdated)
	}
	if target.l != nil {
		ds = append(ds, delivery{target.l, Event{Type: EventUpdated, Participant: &pub}})
		for _, o := range l.parts {
			if o == target || !o.p.InRoom {
				continue
			}
			opub := o.p.Public()
			ds = visibility(ds, target.l, l.canSee(&before, o.p), l.canSee(target.p, o.p), o.p.ID, &opub, "")
		}
	}
	l.mu.Unlock()
	deliver(ds)
	return nil
}

// visibility queues what a listener must learn about participant id when
// its visibility went from was to is: a join, a leave, or (both visible)
// the event same, if any.
func visibility(ds []delivery, lis Listener, was, is bool, id string, pub *Public, same EventType) []delivery {
	switch {
	case !was && is:
		return append(ds, delivery{lis, Event{Type: EventJoined, Participant: pub}})
	case was && !is:
		return append(ds, delivery{lis, Event{Type: EventLeft, ParticipantID: id}})
	case was && is && same != "":
		return append(ds, delivery{lis, Event{Type: same, Participant: pub}})
	}
	return ds
}

// RaiseHand raises or lowers one's own hand.
func (m *Member) RaiseHand(ctx context.Context, up bool) error {
	return m.update(ctx, m.id, false, func(p *Participant) error { p.RaisedHand = up; return nil })
}

// LowerHand lowers another participant's hand (moderators only).
func (m *Member) LowerHand(ctx context.Context, id string) error {
	return m.update(ctx, id, true, func(p *Participant) error { p.RaisedHand = false; return nil })
}

// SetRole promotes or demotes a participant (moderators only). Phone
// callers stay viewers.
func (m *Member) SetRole(ctx context.Context, id string, r Role) error {
	if !r.Valid() {
		return fmt.Errorf("%w: role", ErrInvalid)
	}
	return m.update(ctx, id, true, func(p *Participant) error {
		if p.Kind == Phone && r == Moderator {
			return fmt.Errorf("%w: phone callers cannot moderate", ErrForbidden)
		}
		p.Role = r
		// A demoted moderator falls under the viewers' locks at once: what
		// they may no longer share is switched off (the media layer stops
		// forwarding it, the client its device).
		if r == Viewer {
			lock := &m.lv.mt.Lock
			if lock.DisableMic {
				p.Audio = false
			}
			if lock.DisableCam {
				p.Video = false
			}
		}
		return nil
	})
}

// MediaState is what the media layer reports of a participant's tracks.
type MediaState struct {
	Audio, Video, Screen bool
}

// SetMedia records one's own published tracks. A muted participant cannot
// publish audio until they unmute themselves. The lock settings are
// enforced here, by the server: a viewer cannot switch on a microphone or
// camera the room locked (ErrForbidden, nothing changes).
func (m *Member) SetMedia(ctx context.Context, s MediaState) error {
	return m.update(ctx, m.id, false, func(p *Participant) error {
		if p.Role == Viewer {
			lock := &m.lv.mt.Lock
			if s.Audio && lock.DisableMic {
				return fmt.Errorf("%w: microphones are locked for viewers", ErrForbidden)
			}
			if s.Video && lock.DisableCam {
				return fmt.Errorf("%w: webcams are locked for viewers", ErrForbidden)
			}
		}
		p.Audio, p.Video, p.Screen = s.Audio, s.Video, s.Screen
		if s.Audio {
			p.Muted = false
		}
		return nil
	})
}

// Mute mutes another participant (moderators only). Nobody can be unmuted
// by someone else: unmuting is SetMedia of the participant themself.
func (m *Member) Mute(ctx context.Context, id string) error {
	return m.update(ctx, id, true, func(p *Participant) error { p.Muted, p.Audio = true, false; return nil })
}

// Remove takes a participant out of the meeting (moderators only); their
// session cannot re-enter.
func (m *Member) Remove(ctx context.Context, id string) error {
	l := m.lv
	l.mu.Lock()
	mem, err := m.self()
	if err == nil && mem.p.Role != Moderator {
		err = ErrForbidden
	}
	if err == nil && id == m.id {
		err = fmt.Errorf("%w: cannot remove oneself", ErrInvalid)
	}
	var ds []delivery
	if err == nil && l.parts[id] == nil {
		err = fmt.Errorf("%w: participant", ErrNotFound)
	}
	if err == nil {
		l.banned[id] = true
		// Kept in the store too, so the removal outlasts a crash of this
		// node (another node adopting the meeting reads it back).
		if berr := l.mgr.store.PutState(ctx, l.mt.Key, stateBanned, l.bannedJSON(), l.ttl()); berr != nil {
			l.mgr.log.Warn("store removal", "meeting", l.mt.Key, "err", berr)
		}
		ds, err = l.remove(ctx, nil, id, EventRemoved)
	}
	l.mu.Unlock()
	deliver(ds)
	return err
}

// End ends the meeting for everyone (moderators only).
func (m *Member) End(ctx context.Context) error {
	l := m.lv
	l.mu.Lock()
	mem, err := m.self()
	if err == nil && mem.p.Role != Moderator {
		err = ErrForbidden
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.end(ctx, ReasonModerator)
}

// Leave takes the participant out of the meeting at once.
func (m *Member) Leave(ctx context.Context) error {
	l := m.lv
	l.mu.Lock()
	_, err := m.self()
	var ds []delivery
	if err == nil {
		ds, err = l.remove(ctx, nil, m.id, "")
	}
	l.mu.Unlock()
	deliver(ds)
	return err
}

// Detach records that the connection dropped. A browser keeps its place for
// the reconnect grace; a phone call leaves at once. A replaced handle's
// Detach does nothing.
func (m *Member) Detach(ctx context.Context) {
	l := m.lv
	l.mu.Lock()
	mem, err := m.self()
	if err != nil {
		l.mu.Unlock()
		return
	}
	var ds []delivery
	mem.l = nil
	if mem.p.Kind == Phone {
		ds, _ = l.remove(ctx, nil, m.id, "")
	} else {
		mem.p.Connected, mem.p.Disconnected = false, l.mgr.cfg.Now()
		if err := l.mgr.store.PutParticipant(ctx, l.mt.Key, mem.p, l.ttl()); err != nil {
			l.mgr.log.Warn("store participant", "meeting", l.mt.Key, "err", err)
		}
		if mem.p.InRoom {
			pub := mem.p.Public()
			ds = l.broadcast(nil, mem.p, Event{Type: EventUpdated, Participant: &pub})
		} else if l.awaitsApproval(mem.p) {
			ds = l.waitingChanged(nil) // moderators see the guest went offline
		}
	}
	l.mu.Unlock()
	deliver(ds)
}
