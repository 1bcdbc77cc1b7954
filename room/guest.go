package room

import (
	"context"
	"fmt"
	"sort"
)

// Guest policy ASK_MODERATOR: a participant joined with guest=true (and not
// as a moderator, whom BBB always lets in) waits in the lobby, even while
// the conference runs, until a moderator in the room admits or denies them.

// stateDenied names the feature state holding the IDs of guests a
// moderator refused, so a denial outlasts a crash of this node too.
const stateDenied = "guestDenied"

// AsksModerator reports whether someone joining with this guest flag and
// role must wait for a moderator's approval (BBB's guestStatus WAIT).
func (m *Meeting) AsksModerator(guest bool, r Role) bool {
	return m.GuestPolicy == GuestAskModerator && guest && r != Moderator
}

// awaitsApproval reports whether p may enter only with a moderator's
// approval; the caller holds l.mu.
func (l *live) awaitsApproval(p *Participant) bool {
	return l.mt.AsksModerator(p.Guest, p.Role) && !p.Approved
}

// waitingList is the guests waiting for approval, oldest first; the
// caller holds l.mu.
func (l *live) waitingList() []Public {
	var ps []*Participant
	for _, o := range l.parts {
		if !o.p.InRoom && l.awaitsApproval(o.p) {
			ps = append(ps, o.p)
		}
	}
	sort.Slice(ps, func(i, j int) bool {
		if !ps[i].JoinedAt.Equal(ps[j].JoinedAt) {
			return ps[i].JoinedAt.Before(ps[j].JoinedAt)
		}
		return ps[i].ID < ps[j].ID
	})
	out := make([]Public, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Public())
	}
	return out
}

// waitingChanged queues the current waiting list to every moderator in the
// room; the caller holds l.mu. The whole list travels each time, so a
// moderator's view never depends on having seen earlier events.
func (l *live) waitingChanged(ds []delivery) []delivery {
	var list []Public
	for _, o := range l.parts {
		if o.l == nil || !o.p.InRoom || o.p.Role != Moderator {
			continue
		}
		if list == nil {
			list = l.waitingList()
		}
		ds = append(ds, delivery{o.l, Event{Type: EventWaiting, Waiting: list}})
	}
	return ds
}

// AdmitGuest lets a waiting guest in (allow) or turns them away for good
// (moderators in the room only). An ID that is not a waiting guest is
// ErrNotFound and changes nothing.
func (m *Member) AdmitGuest(ctx context.Context, id string, allow bool) error {
	l := m.lv
	l.mu.Lock()
	ds, err := m.admitGuest(id, allow)
	l.queue(ds)
	l.mu.Unlock()
	l.flush()
	return err
}

// AdmitAllGuests lets every waiting guest in (moderators in the room
// only) and returns how many entered.
func (m *Member) AdmitAllGuests(ctx context.Context) (int, error) {
	l := m.lv
	l.mu.Lock()
	var ds []delivery
	n := 0
	_, err := m.moderatorInRoom()
	if err == nil {
		for _, p := range l.waitingList() {
			var more []delivery
			if more, err = m.admitGuest(p.ID, true); err != nil {
				break
			}
			ds = append(ds, more...)
			n++
		}
	}
	l.queue(ds)
	l.mu.Unlock()
	l.flush()
	return n, err
}

// moderatorInRoom returns the caller's member if it is a moderator in the
// room; the caller holds l.mu.
func (m *Member) moderatorInRoom() (*member, error) { return m.inRoom(true) }

// admitGuest does AdmitGuest's work; the caller holds l.mu and delivers.
func (m *Member) admitGuest(id string, allow bool) ([]delivery, error) {
	l := m.lv
	if _, err := m.moderatorInRoom(); err != nil {
		return nil, err
	}
	target := l.parts[id]
	if target == nil || target.p.InRoom || !l.awaitsApproval(target.p) {
		return nil, fmt.Errorf("%w: no such waiting guest", ErrNotFound)
	}
	if err := l.persist.accepting(); err != nil {
		return nil, err
	}
	if !allow {
		l.denied[id] = true
		l.putState(stateDenied, mustJSON(idList(l.denied)))
		return l.remove(nil, id, EventDenied)
	}
	target.p.Approved, target.p.InRoom = true, true
	l.putParticipant(target.p)
	var ds []delivery
	if target.l != nil {
		ds = append(ds, delivery{target.l, Event{Type: EventAdmitted}})
	}
	pub := target.p.Public()
	ds = l.broadcast(ds, target.p, Event{Type: EventJoined, Participant: &pub})
	return l.waitingChanged(ds), nil
}
