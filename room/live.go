package room

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// live is a meeting running on this node, which holds its lease: the
// authority on its state. The mutex guards everything below it; every
// change is made under it and handed to the persister in the same
// critical section (so the store sees changes in the order they were
// made), and listeners are notified after it is released. Nothing under
// the mutex calls out: no store, no network, no other room.
type live struct {
	mgr     *Manager
	persist *persister
	// filesMu orders StoreFile against the end's wipe of the files.
	filesMu sync.Mutex

	mu       sync.Mutex
	mt       *Meeting
	parts    map[string]*member
	banned   map[string]bool
	denied   map[string]bool // guests a moderator refused (guest.go)
	chat     []*ChatMessage  // oldest first, capped
	sessions map[string]*Session
	features []*featureSlot
	// ended: the meeting ended or moved to another node; nothing more
	// happens in this room.
	ended bool
	// restoreQueued: a write-back of the whole state waits in the
	// persister (the store lost the meeting).
	restoreQueued bool
	gen           uint64

	// outbox holds events in the order their changes were made (appended
	// under mu); flush hands them to the listeners outside mu, one
	// flusher at a time, so a participant never sees a later change
	// before an earlier one (a note operation before the one it follows).
	outbox []delivery
	// flushing is held by the goroutine delivering the outbox.
	flushing sync.Mutex
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
	l := &live{mgr: m, mt: mt, parts: map[string]*member{}, banned: map[string]bool{}, denied: map[string]bool{},
		sessions: map[string]*Session{}}
	l.persist = newPersister(persistConfig{
		MaxPending: m.cfg.MaxPendingWrites, DownAfter: m.cfg.StoreDownAfter, OpTimeout: m.cfg.StoreOpTimeout,
		BackoffMin: 50 * time.Millisecond, BackoffMax: 2 * time.Second,
		counters: &m.counters, onNotFound: func() { m.restore(l) }, log: m.log, meetingKey: mt.Key,
		store: m.store, now: time.Now,
	})
	for _, spec := range m.cfg.Features {
		l.features = append(l.features, &featureSlot{spec: spec, f: spec.New(mt)})
	}
	return l
}

func deliver(ds []delivery) {
	for _, d := range ds {
		if d.l != nil {
			d.l.Notify(d.e)
		}
	}
}

// queue appends a change's events to the outbox; the caller holds l.mu
// and calls flush after unlocking it.
func (l *live) queue(ds []delivery) {
	l.outbox = append(l.outbox, ds...)
}

// flush delivers the outbox in order. Listeners' Notify never blocks, but
// one may react at once with a change of its own (a phone call hung up
// on a full queue), whose flush then finds the lock taken and leaves its
// events to the flusher already running: no flusher ever waits for
// another, and events queued while one delivers are delivered by it.
func (l *live) flush() {
	for {
		if !l.flushing.TryLock() {
			return
		}
		l.mu.Lock()
		ds := l.outbox
		l.outbox = nil
		l.mu.Unlock()
		deliver(ds)
		l.flushing.Unlock()
		if len(ds) > 0 {
			continue
		}
		// Empty: events queued by a goroutine whose TryLock failed while
		// this one held the lock are still to go; look once more.
		l.mu.Lock()
		more := len(l.outbox) > 0
		l.mu.Unlock()
		if !more {
			return
		}
	}
}

// stateBanned names the state holding the IDs of participants a moderator
// removed.
const stateBanned = "banned"

func (l *live) ttl() time.Duration { return l.mgr.cfg.TTL }

// The writes below are queued under l.mu; each copies what it writes.

func (l *live) putParticipant(p *Participant) {
	cp := *p
	key, ttl := l.mt.Key, l.ttl()
	l.persist.add(op{key: "p:" + p.ID, run: func(ctx context.Context, st Store) error {
		return st.PutParticipant(ctx, key, &cp, ttl)
	}})
}

func (l *live) dropParticipant(id string) {
	key := l.mt.Key
	l.persist.add(op{key: "p:" + id, run: func(ctx context.Context, st Store) error {
		return st.DeleteParticipant(ctx, key, id)
	}})
}

func (l *live) putMeeting() {
	cp := *l.mt
	ttl := l.ttl()
	l.persist.add(op{key: "meeting", run: func(ctx context.Context, st Store) error {
		return st.UpdateMeeting(ctx, &cp, ttl)
	}})
}

func (l *live) putState(name string, v []byte) {
	key, ttl := l.mt.Key, l.ttl()
	l.persist.add(op{key: "s:" + name, run: func(ctx context.Context, st Store) error {
		return st.PutState(ctx, key, name, v, ttl)
	}})
}

// idList encodes a set of IDs, sorted.
func idList(set map[string]bool) []string {
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
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

func (l *live) attach(id Identity, lis Listener) (*Member, error) {
	if id.ParticipantID == "" || !id.Role.Valid() {
		return nil, fmt.Errorf("%w: identity", ErrInvalid)
	}
	now := l.mgr.cfg.Now()
	var ds []delivery
	l.mu.Lock()
	defer l.flush()
	defer func() { l.queue(ds); l.mu.Unlock() }()
	if l.ended {
		return nil, ErrEnded
	}
	if l.banned[id.ParticipantID] {
		return nil, ErrForbidden
	}
	if l.denied[id.ParticipantID] {
		return nil, ErrDenied
	}
	// Whoever attaches is written to the store: refuse while it is stuck
	// rather than keep a member the store never hears of.
	if err := l.persist.accepting(); err != nil {
		return nil, err
	}
	l.gen++
	mem := l.parts[id.ParticipantID]
	isNew := mem == nil
	if isNew {
		if l.mt.MaxParticipants > 0 && len(l.parts) >= l.mt.MaxParticipants {
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
		l.putParticipant(p)
	}
	if meetingChanged {
		l.putMeeting()
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
	ds = l.ensurePresenter(ds)
	return &Member{lv: l, id: mem.p.ID, gen: mem.gen}, nil
}

// remove deletes a participant; the caller holds l.mu.
func (l *live) remove(ds []delivery, id string, ev EventType) ([]delivery, error) {
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
	ds = l.featuresLeft(ds, mem.p)
	l.dropParticipant(id)
	if mem.p.Presenter {
		ds = l.ensurePresenter(ds)
	}
	return ds, nil
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
			ds, _ = l.remove(ds, id, "")
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
			l.putMeeting()
		}
		ds = l.featuresTick(ds, now)
	}
	key := mt.Key
	l.queue(ds)
	l.mu.Unlock()
	l.flush()
	if reason != "" {
		if err := l.end(ctx, reason); err != nil {
			l.mgr.log.Warn("end meeting", "meeting", key, "err", err)
		}
	}
}

// stop marks the room ended and tells every listener ev; it reports false
// when it had ended already. The persister stops, dropping what waits.
func (l *live) stop(ev Event) bool {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return false
	}
	l.ended = true
	var ds []delivery
	for _, mem := range l.parts {
		if mem.l != nil {
			ds = append(ds, delivery{mem.l, ev})
		}
	}
	l.queue(ds)
	l.mu.Unlock()
	l.flush()
	// Outside l.mu: the persister's loop may be waiting for it (a
	// write-back takes the state under l.mu).
	l.persist.stop()
	return true
}

func (l *live) end(ctx context.Context, reason string) error {
	if !l.stop(Event{Type: EventEnded, Reason: reason, LogoutURL: l.logoutURL()}) {
		return nil
	}
	key := l.mt.Key // Key never changes
	// Child meetings (breakouts) end with their parent, before it.
	for _, c := range l.mgr.children(key) {
		if err := c.end(ctx, ReasonParent); err != nil {
			l.mgr.log.Warn("end child meeting", "meeting", c.mt.Key, "err", err)
		}
	}
	l.mu.Lock()
	last := *l.mt
	l.mu.Unlock()
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
	l.mgr.forget(l)
	if err != nil {
		return fmt.Errorf("wipe meeting: %w", err)
	}
	return nil
}

// abandon gives the room up without ending the meeting: another node took
// its lease (this one could not renew it in time). Its participants are
// told to reconnect; nothing is wiped.
func (l *live) abandon() {
	if !l.stop(Event{Type: EventMoved}) {
		return
	}
	key := l.mt.Key
	l.mgr.log.Warn("meeting lease lost to another node; closing it here", "meeting", key)
	hooks, _ := l.mgr.endHooks()
	for _, hook := range hooks {
		hook(key)
	}
	l.mgr.forget(l)
}

func (l *live) logoutURL() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mt.LogoutURL
}
