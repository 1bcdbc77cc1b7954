package room

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Member is one attached connection's handle on its participant. Its
// methods check the participant's rights; a handle replaced by a newer
// Attach of the same participant gets ErrReplaced and can only Detach
// harmlessly. No method waits for the store: changes are made in memory
// and written behind.
type Member struct {
	lv  *live
	id  string
	gen uint64
}

// ID is the participant's public ID.
func (m *Member) ID() string { return m.id }

// MeetingKey is the meeting's key (its incarnation).
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
	// Features holds each feature's view for this participant, by
	// feature name (features with nothing to show are absent).
	Features map[string]any
}

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
		return nil, ErrReplaced
	}
	return mem, nil
}

// inRoom returns the member under l.mu if it is in the room (not the
// lobby), and, with mod, a moderator.
func (m *Member) inRoom(mod bool) (*member, error) {
	mem, err := m.self()
	if err != nil {
		return nil, err
	}
	if !mem.p.InRoom {
		return nil, ErrNotInRoom
	}
	if mod && mem.p.Role != Moderator {
		return nil, ErrForbidden
	}
	return mem, nil
}

// change runs f under the room's lock for a participant in the room (a
// moderator when mod), after checking that the store takes writes; f
// returns the deliveries to make once the lock is released.
func (m *Member) change(mod bool, f func(mem *member) ([]delivery, error)) error {
	l := m.lv
	l.mu.Lock()
	mem, err := m.inRoom(mod)
	if err == nil {
		err = l.persist.accepting()
	}
	var ds []delivery
	if err == nil {
		ds, err = f(mem)
	}
	l.queue(ds)
	l.mu.Unlock()
	l.flush()
	return err
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

// Snapshot returns the participant's view of the meeting, from memory.
func (m *Member) Snapshot(context.Context) (*Snapshot, error) {
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
	for _, c := range l.chat {
		if v, ok := l.chatFor(mem.p, c); ok {
			s.Chat = append(s.Chat, *v)
		}
	}
	s.Features = l.featureViews(mem.p)
	return s, nil
}

// update applies f to participant id (under the lock), stores it and tells
// the room. mod requires the caller to be a moderator.
func (m *Member) update(id string, mod bool, f func(p *Participant) error) error {
	return m.change(mod, func(*member) ([]delivery, error) {
		l := m.lv
		target := l.parts[id]
		if target == nil || !target.p.InRoom {
			return nil, fmt.Errorf("%w: participant", ErrNotFound)
		}
		before := *target.p
		if err := f(target.p); err != nil {
			*target.p = before
			return nil, err
		}
		l.putParticipant(target.p)
		return l.changed(nil, target, &before), nil
	})
}

// changed queues what everyone must learn after target's participant
// changed from before; the caller holds l.mu. A role change under
// "participants cannot see each other" changes who sees whom: observers
// learn it as a join or a leave, so their rosters match what a fresh
// Snapshot would show.
func (l *live) changed(ds []delivery, target *member, before *Participant) []delivery {
	pub := target.p.Public()
	for _, o := range l.parts {
		if o == target || !o.p.InRoom || o.l == nil {
			continue
		}
		ds = visibility(ds, o.l, l.canSee(o.p, before), l.canSee(o.p, target.p), target.p.ID, &pub, EventUpdated)
	}
	if target.l != nil {
		ds = append(ds, delivery{target.l, Event{Type: EventUpdated, Participant: &pub}})
		for _, o := range l.parts {
			if o == target || !o.p.InRoom {
				continue
			}
			opub := o.p.Public()
			ds = visibility(ds, target.l, l.canSee(before, o.p), l.canSee(target.p, o.p), o.p.ID, &opub, "")
		}
	}
	return ds
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
func (m *Member) RaiseHand(_ context.Context, up bool) error {
	now := m.lv.mgr.cfg.Now().UTC()
	return m.update(m.id, false, func(p *Participant) error {
		switch {
		case up && !p.RaisedHand:
			p.HandRaisedAt = now // raising again keeps one's place
		case !up:
			p.HandRaisedAt = time.Time{}
		}
		p.RaisedHand = up
		return nil
	})
}

// LowerHand lowers another participant's hand (moderators only).
func (m *Member) LowerHand(_ context.Context, id string) error {
	return m.update(id, true, func(p *Participant) error { p.RaisedHand, p.HandRaisedAt = false, time.Time{}; return nil })
}

// SetRole promotes or demotes a participant (moderators only). Phone
// callers stay viewers.
func (m *Member) SetRole(_ context.Context, id string, r Role) error {
	if !r.Valid() {
		return fmt.Errorf("%w: role", ErrInvalid)
	}
	return m.update(id, true, func(p *Participant) error {
		if p.Kind == Phone && r == Moderator {
			return fmt.Errorf("%w: phone callers cannot moderate", ErrForbidden)
		}
		p.Role = r
		// A demoted moderator falls under the viewers' locks at once.
		m.lv.applyLock(p)
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
func (m *Member) SetMedia(_ context.Context, s MediaState) error {
	return m.update(m.id, false, func(p *Participant) error {
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
func (m *Member) Mute(_ context.Context, id string) error {
	return m.update(id, true, func(p *Participant) error { p.Muted, p.Audio = true, false; return nil })
}

// Remove takes a participant out of the meeting (moderators only); their
// session cannot re-enter.
func (m *Member) Remove(_ context.Context, id string) error {
	return m.change(true, func(*member) ([]delivery, error) {
		l := m.lv
		if id == m.id {
			return nil, fmt.Errorf("%w: cannot remove oneself", ErrInvalid)
		}
		if l.parts[id] == nil {
			return nil, fmt.Errorf("%w: participant", ErrNotFound)
		}
		l.banned[id] = true
		// Kept in the store too, so the removal outlasts a crash of this
		// node (the node adopting the meeting reads it back).
		l.putState(stateBanned, mustJSON(idList(l.banned)))
		return l.remove(nil, id, EventRemoved)
	})
}

// End ends the meeting for everyone (moderators only).
func (m *Member) End(ctx context.Context) error {
	l := m.lv
	l.mu.Lock()
	_, err := m.inRoom(true)
	if err == ErrNotInRoom {
		err = ErrForbidden
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.end(ctx, ReasonModerator)
}

// Leave takes the participant out of the meeting at once.
func (m *Member) Leave(context.Context) error {
	l := m.lv
	l.mu.Lock()
	_, err := m.self()
	var ds []delivery
	if err == nil {
		ds, err = l.remove(nil, m.id, "")
	}
	l.queue(ds)
	l.mu.Unlock()
	l.flush()
	return err
}

// Detach records that the connection dropped. A browser keeps its place for
// the reconnect grace; a phone call leaves at once. A replaced handle's
// Detach does nothing. It never fails: a dropped connection is a fact.
func (m *Member) Detach(context.Context) {
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
		ds, _ = l.remove(nil, m.id, "")
	} else {
		mem.p.Connected, mem.p.Disconnected = false, l.mgr.cfg.Now()
		l.putParticipant(mem.p)
		if mem.p.InRoom {
			pub := mem.p.Public()
			ds = l.broadcast(nil, mem.p, Event{Type: EventUpdated, Participant: &pub})
		} else if l.awaitsApproval(mem.p) {
			ds = l.waitingChanged(nil) // moderators see the guest went offline
		}
	}
	l.queue(ds)
	l.mu.Unlock()
	l.flush()
}
