package room

import (
	"context"
	"encoding/json"
	"errors"
)

// Ownership. A running meeting lives on one node, the holder of its lease
// in the store (SET NX with a TTL, renewed by the heartbeat, released by a
// compare-and-delete). Only the owner ticks, ends and wipes a meeting;
// other nodes answer the API from the store and pass an end on through it.
// A meeting whose owner stopped renewing (a node that died) is adopted by
// the first node whose scan takes the free lease: its participants get the
// reconnect grace there, and the usual timers end it if nobody comes back.

func (m *Manager) releaseLease(ctx context.Context, key string) {
	if err := m.store.ReleaseLease(ctx, key, m.cfg.NodeID); err != nil {
		m.log.Warn("release lease", "meeting", key, "err", err)
	}
}

// room returns the live room for key, adopting a meeting found in the
// store whose lease is free; ErrElsewhere when another node holds it.
func (m *Manager) room(ctx context.Context, key string) (*live, error) {
	if l := m.lookup(key); l != nil {
		return l, nil
	}
	mt, err := m.store.GetMeeting(ctx, key)
	if err != nil {
		return nil, err
	}
	ok, err := m.store.AcquireLease(ctx, key, m.cfg.NodeID, m.cfg.LeaseTTL)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrElsewhere
	}
	l, err := m.load(ctx, mt)
	if err != nil {
		m.releaseLease(ctx, key)
		return nil, err
	}
	m.mu.Lock()
	if old := m.rooms[key]; old != nil {
		// Adopted concurrently by another call of this node.
		m.mu.Unlock()
		l.persist.stop()
		return old, nil
	}
	m.rooms[key] = l
	m.byID[KeyOf(mt.MeetingID)] = l
	starts := append([]func(string){}, m.onStart...)
	m.mu.Unlock()
	for _, f := range starts {
		f(key)
	}
	m.log.Info("meeting adopted", "meeting", key)
	return l, nil
}

// load reads an adopted meeting's state from the store into a new room.
func (m *Manager) load(ctx context.Context, mt *Meeting) (*live, error) {
	key := mt.Key
	ps, err := m.store.ListParticipants(ctx, key)
	if err != nil {
		return nil, err
	}
	chat, err := m.store.ListChat(ctx, key)
	if err != nil {
		return nil, err
	}
	var banned, denied []string
	for _, st := range []struct {
		name string
		dst  *[]string
	}{{stateBanned, &banned}, {stateDenied, &denied}} {
		b, err := m.store.GetState(ctx, key, st.name)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, st.dst); err != nil {
			m.log.Warn("read state", "meeting", key, "state", st.name, "err", err)
		}
	}
	l := newLive(m, mt)
	for _, id := range banned {
		l.banned[id] = true
	}
	for _, id := range denied {
		l.denied[id] = true
	}
	if len(chat) > m.cfg.MaxChatLines {
		chat = chat[len(chat)-m.cfg.MaxChatLines:]
	}
	l.chat = chat
	now := m.cfg.Now()
	for _, p := range ps {
		// Connections do not survive a move: give everyone the grace.
		if p.Connected && p.Kind == Browser {
			p.Connected, p.Disconnected = false, now
		}
		l.parts[p.ID] = &member{p: p}
	}
	if err := restoreFeatures(ctx, m.store, l); err != nil {
		l.persist.stop()
		return nil, err
	}
	return l, nil
}

// Heartbeat renews the lease of every meeting running here, refreshes its
// keys' TTLs, passes on end requests made through other nodes, and writes
// back a meeting the store lost. It runs outside every meeting's lock; a
// slow store slows only the heartbeat. Run calls it every LeaseTTL/3.
func (m *Manager) Heartbeat(ctx context.Context) {
	for _, l := range m.liveRooms() {
		m.heartbeat(ctx, l)
	}
}

func (m *Manager) heartbeat(ctx context.Context, l *live) {
	key := l.mt.Key
	ok, err := m.store.AcquireLease(ctx, key, m.cfg.NodeID, m.cfg.LeaseTTL)
	if err != nil {
		m.log.Warn("renew lease", "meeting", key, "err", err)
		return
	}
	if !ok {
		l.abandon()
		return
	}
	if reason, err := m.store.EndRequested(ctx, key); err != nil {
		m.log.Warn("read end request", "meeting", key, "err", err)
	} else if reason != "" {
		if err := l.end(ctx, reason); err != nil {
			m.log.Warn("end meeting", "meeting", key, "err", err)
		}
		return
	}
	switch err := m.store.Touch(ctx, key, m.cfg.TTL); {
	case errors.Is(err, ErrNotFound):
		m.log.Warn("store lost a running meeting, writing it back", "meeting", key)
		m.restore(l)
	case err != nil:
		m.log.Warn("refresh TTL", "meeting", key, "err", err)
	}
}

// Scan adopts the meetings in the store whose lease is free: their owner
// died. Run calls it every LeaseTTL.
func (m *Manager) Scan(ctx context.Context) {
	ms, err := m.store.ListMeetings(ctx)
	if err != nil {
		m.log.Warn("scan for orphaned meetings", "err", err)
		return
	}
	for _, mt := range ms {
		if m.lookup(mt.Key) != nil {
			continue
		}
		owner, err := m.store.LeaseOwner(ctx, mt.Key)
		if err != nil || owner != "" {
			continue
		}
		if _, err := m.room(ctx, mt.Key); err != nil && !errors.Is(err, ErrElsewhere) && !errors.Is(err, ErrNotFound) {
			m.log.Warn("adopt orphaned meeting", "meeting", mt.Key, "err", err)
		}
	}
}

// restore queues a write-back of the meeting's whole state: the store lost
// it (a Redis restarted empty, or an outage longer than the TTL) while the
// meeting runs here. It comes after every write already waiting and
// replaces the pending ones it covers.
func (m *Manager) restore(l *live) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended || l.restoreQueued {
		return
	}
	l.restoreQueued = true
	mt := *l.mt
	ttl := l.ttl()
	l.persist.add(op{key: "restore", run: func(ctx context.Context, st Store) error {
		l.mu.Lock()
		l.restoreQueued = false
		l.mu.Unlock()
		err := st.RestoreMeeting(ctx, &mt, ttl)
		if errors.Is(err, ErrExists) || errors.Is(err, ErrPINTaken) {
			// Someone created the meetingID (or took the PIN) anew while
			// the store was empty: this meeting goes on for those in it,
			// but cannot get its name or PIN back.
			m.log.Error("write back meeting", "meeting", mt.Key, "err", err)
			return nil
		}
		return err
	}})
	for _, mem := range l.parts {
		l.putParticipant(mem.p)
	}
	l.queueChatRewrite()
	l.putState(stateBanned, mustJSON(idList(l.banned)))
	l.putState(stateDenied, mustJSON(idList(l.denied)))
	for th, s := range l.sessions {
		cp := *s
		l.persist.add(op{key: "session:" + th, run: func(ctx context.Context, st Store) error {
			return st.PutSession(ctx, th, &cp, ttl)
		}})
	}
	for _, s := range l.features {
		snap, err := s.f.Snapshot()
		if err != nil {
			m.log.Error("write back feature", "meeting", mt.Key, "feature", s.spec.Name, "err", err)
			continue
		}
		name := s.spec.Name
		if s.spec.CompactEvery == 0 {
			l.putState(stateName(name), snap)
			continue
		}
		s.logLen = 0
		l.persist.add(op{run: func(ctx context.Context, st Store) error {
			return st.CompactLog(ctx, mt.Key, name, snap, -1, ttl)
		}})
	}
}
