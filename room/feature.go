package room

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A feature (polls, notes, whiteboard, presentation, video sync, timer,
// breakouts) is a state machine inside the running meeting. Its state lives
// in memory under the meeting's lock like the roster's; the framework hands
// its writes to the meeting's persister and its events to the listeners,
// so a feature never touches the store, a lock or a connection itself.
//
// A feature keeps its state in the store in one of two ways:
//   - a blob (Tx.Save): the whole state, rewritten (coalesced) after a
//     change; for small state such as a timer or a poll;
//   - an append log (Tx.Append): one entry per change, for high-rate state
//     such as note operations or whiteboard strokes, compacted into a
//     snapshot every CompactEvery entries, so the store never rewrites a
//     large blob per keystroke.
//
// Either way, a node adopting the meeting rebuilds the state with Restore.

// Feature is one feature's state in one meeting. Its methods run under the
// meeting's lock, one at a time: they must not block or call out, and must
// not keep tx after returning.
type Feature interface {
	// Command runs one command of actor (a participant in the room) and
	// returns its result. It checks rights and input first and changes
	// nothing when it returns an error: no half-applied command.
	Command(tx *Tx, actor *Participant, cmd any) (any, error)
	// View is what viewer sees of the feature on (re)connect; nil when
	// there is nothing to show.
	View(viewer *Participant) any
	// Snapshot encodes the whole state (the blob, or a log's snapshot).
	Snapshot() ([]byte, error)
	// Restore rebuilds the state from a snapshot (nil: none) and the log
	// entries after it (nil for blob features).
	Restore(snapshot []byte, entries [][]byte) error
}

// FeatureLeaver is implemented by features that react when a participant
// leaves the meeting (drawing rights, presence, a presenter).
type FeatureLeaver interface {
	Left(tx *Tx, p *Participant)
}

// FeatureTicker is implemented by features with timers (a countdown, a
// breakout's duration); Tick runs with the meeting's tick.
type FeatureTicker interface {
	Tick(tx *Tx, now time.Time)
}

// FeatureSpec registers a feature with the Manager.
type FeatureSpec struct {
	// Name names the feature in events, in the store and in errors.
	Name string
	// New makes the feature's empty state for a new meeting.
	New func(mt *Meeting) Feature
	// CompactEvery > 0 makes the feature an append-log feature: after
	// that many entries the log is compacted into a snapshot. 0: blob.
	CompactEvery int
}

type featureSlot struct {
	spec FeatureSpec
	f    Feature
	// logLen counts entries appended since the last compaction.
	logLen int
}

// Tx is a feature's access to the meeting during one call. It is valid
// only until the call returns.
type Tx struct {
	l    *live
	slot *featureSlot
	ds   []delivery
	now  time.Time
	save bool
	logs [][]byte
}

// Now is the meeting's clock.
func (tx *Tx) Now() time.Time { return tx.now }

// Meeting is the meeting's current state (read-only).
func (tx *Tx) Meeting() *Meeting { return tx.l.mt }

// Participant returns a participant in the room by ID (read-only), or nil.
func (tx *Tx) Participant(id string) *Participant {
	if mem := tx.l.parts[id]; mem != nil && mem.p.InRoom {
		return mem.p
	}
	return nil
}

// Participants calls f for every participant in the room (read-only).
func (tx *Tx) Participants(f func(p *Participant)) {
	for _, mem := range tx.l.parts {
		if mem.p.InRoom {
			f(mem.p)
		}
	}
}

// Peer returns another feature of the meeting by name, for reading its
// state (nil when the meeting has none).
func (tx *Tx) Peer(name string) Feature {
	if s := tx.l.slot(name); s != nil {
		return s.f
	}
	return nil
}

// Also runs f on another feature of the meeting with a Tx of its own, so
// what f changes there is stored and told under that feature's name (a
// removed document takes its drawings with it).
func (tx *Tx) Also(name string, f func(sub *Tx, feat Feature)) error {
	s := tx.l.slot(name)
	if s == nil {
		return nil
	}
	sub := &Tx{l: tx.l, slot: s, now: tx.now}
	f(sub, s.f)
	if err := sub.commit(); err != nil {
		return err
	}
	tx.ds = append(tx.ds, sub.ds...)
	return nil
}

// SystemChat writes a public chat line from the meeting itself (a poll's
// result), which everyone in the room receives.
func (tx *Tx) SystemChat(text string) {
	l := tx.l
	msg := &ChatMessage{ID: NewID(), System: true, Text: text, Time: tx.now.UTC()}
	l.addChat(msg)
	for _, o := range l.parts {
		if o.p.InRoom && o.l != nil {
			tx.ds = append(tx.ds, delivery{o.l, Event{Type: EventChat, Chat: msg}})
		}
	}
}

// MaySee reports whether viewer may see subject ("participants cannot see
// each other").
func (tx *Tx) MaySee(viewer, subject *Participant) bool { return tx.l.canSee(viewer, subject) }

// SendTo queues payload as the feature's event to one participant in the
// room (nothing if they are not there or not connected).
func (tx *Tx) SendTo(id string, payload any) {
	if mem := tx.l.parts[id]; mem != nil && mem.p.InRoom && mem.l != nil {
		tx.ds = append(tx.ds, delivery{mem.l, tx.event(payload)})
	}
}

// SendIf queues payload to every participant in the room for whom to is
// true.
func (tx *Tx) SendIf(to func(p *Participant) bool, payload any) {
	for _, mem := range tx.l.parts {
		if mem.p.InRoom && mem.l != nil && to(mem.p) {
			tx.ds = append(tx.ds, delivery{mem.l, tx.event(payload)})
		}
	}
}

// Broadcast queues payload to everyone in the room.
func (tx *Tx) Broadcast(payload any) {
	tx.SendIf(func(*Participant) bool { return true }, payload)
}

func (tx *Tx) event(payload any) Event {
	return Event{Type: EventFeature, Feature: tx.slot.spec.Name, Payload: payload}
}

// Save marks the feature's state changed: its Snapshot is written as the
// state blob after the call (coalesced with later saves).
func (tx *Tx) Save() { tx.save = true }

// Append writes one entry to the feature's append log after the call.
func (tx *Tx) Append(entry []byte) { tx.logs = append(tx.logs, entry) }

// stateName is the store state name of a blob feature.
func stateName(feature string) string { return "f:" + feature }

// commit queues the writes of a successful call; the caller holds l.mu.
func (tx *Tx) commit() error {
	s := tx.slot
	l := tx.l
	key, ttl, name := l.mt.Key, l.ttl(), s.spec.Name
	if tx.save && s.spec.CompactEvery == 0 {
		snap, err := s.f.Snapshot()
		if err != nil {
			return fmt.Errorf("feature %s: snapshot: %w", name, err)
		}
		l.putState(stateName(name), snap)
	}
	for _, e := range tx.logs {
		l.persist.add(op{run: func(ctx context.Context, st Store) error {
			_, err := st.AppendLog(ctx, key, name, e, ttl)
			return err
		}})
		s.logLen++
	}
	if s.spec.CompactEvery > 0 && s.logLen >= s.spec.CompactEvery {
		snap, err := s.f.Snapshot()
		if err != nil {
			return fmt.Errorf("feature %s: snapshot: %w", name, err)
		}
		drop := s.logLen
		s.logLen = 0
		l.persist.add(op{run: func(ctx context.Context, st Store) error {
			return st.CompactLog(ctx, key, name, snap, drop, ttl)
		}})
	}
	return nil
}

// slot returns the feature by name; caller holds l.mu.
func (l *live) slot(name string) *featureSlot {
	for _, s := range l.features {
		if s.spec.Name == name {
			return s
		}
	}
	return nil
}

// ErrNoFeature: the meeting has no feature by that name.
var ErrNoFeature = errors.New("room: no such feature")

// Command runs a feature's command for the participant (who must be in the
// room) and returns its result. Rights are the feature's to check.
func (m *Member) Command(_ context.Context, feature string, cmd any) (any, error) {
	var res any
	err := m.change(false, func(mem *member) ([]delivery, error) {
		l := m.lv
		s := l.slot(feature)
		if s == nil {
			return nil, fmt.Errorf("%w: %q", ErrNoFeature, feature)
		}
		tx := &Tx{l: l, slot: s, now: l.mgr.cfg.Now()}
		r, err := s.f.Command(tx, mem.p, cmd)
		if err != nil {
			return nil, err
		}
		if err := tx.commit(); err != nil {
			return nil, err
		}
		res = r
		return tx.ds, nil
	})
	return res, err
}

// SystemCommand runs a feature's command as the server itself (actor of
// kind KindSystem), for news from outside the meeting such as a finished
// document conversion. The meeting must run on this node.
func (m *Manager) SystemCommand(_ context.Context, key, feature string, cmd any) (any, error) {
	l := m.lookup(key)
	if l == nil {
		return nil, ErrNotFound
	}
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return nil, ErrEnded
	}
	s := l.slot(feature)
	if s == nil {
		l.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrNoFeature, feature)
	}
	tx := &Tx{l: l, slot: s, now: m.cfg.Now()}
	res, err := s.f.Command(tx, &Participant{Kind: KindSystem, Role: Moderator, InRoom: true}, cmd)
	if err == nil {
		err = tx.commit()
	}
	var ds []delivery
	if err == nil {
		ds = tx.ds
	}
	l.queue(ds)
	l.mu.Unlock()
	l.flush()
	return res, err
}

// featureViews collects each feature's view for viewer; caller holds l.mu.
func (l *live) featureViews(viewer *Participant) map[string]any {
	var out map[string]any
	for _, s := range l.features {
		if v := s.f.View(viewer); v != nil {
			if out == nil {
				out = map[string]any{}
			}
			out[s.spec.Name] = v
		}
	}
	return out
}

// featuresLeft tells the features that p left; caller holds l.mu.
func (l *live) featuresLeft(ds []delivery, p *Participant) []delivery {
	for _, s := range l.features {
		fl, ok := s.f.(FeatureLeaver)
		if !ok {
			continue
		}
		tx := &Tx{l: l, slot: s, now: l.mgr.cfg.Now()}
		fl.Left(tx, p)
		if err := tx.commit(); err != nil {
			l.mgr.log.Error("feature after a leave", "meeting", l.mt.Key, "err", err)
		}
		ds = append(ds, tx.ds...)
	}
	return ds
}

// featuresTick runs the features' timers; caller holds l.mu.
func (l *live) featuresTick(ds []delivery, now time.Time) []delivery {
	for _, s := range l.features {
		ft, ok := s.f.(FeatureTicker)
		if !ok {
			continue
		}
		tx := &Tx{l: l, slot: s, now: now}
		ft.Tick(tx, now)
		if err := tx.commit(); err != nil {
			l.mgr.log.Error("feature tick", "meeting", l.mt.Key, "err", err)
		}
		ds = append(ds, tx.ds...)
	}
	return ds
}

// restoreFeatures reads the features' state of an adopted meeting.
func restoreFeatures(ctx context.Context, st Store, l *live) error {
	for _, s := range l.features {
		var snap []byte
		var entries [][]byte
		var err error
		if s.spec.CompactEvery > 0 {
			snap, entries, err = st.ReadLog(ctx, l.mt.Key, s.spec.Name)
			s.logLen = len(entries)
		} else {
			snap, err = st.GetState(ctx, l.mt.Key, stateName(s.spec.Name))
			if errors.Is(err, ErrNotFound) {
				snap, err = nil, nil
			}
		}
		if err != nil {
			return fmt.Errorf("feature %s: %w", s.spec.Name, err)
		}
		if snap == nil && entries == nil {
			continue
		}
		if err := s.f.Restore(snap, entries); err != nil {
			return fmt.Errorf("feature %s: restore: %w", s.spec.Name, err)
		}
	}
	return nil
}
