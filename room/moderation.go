package room

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// The trainer's tools for the whole room (mute all, lower all hands), the
// presenter, and one's own status. Like every change they are made in
// memory under the room's lock and written behind.

// ensurePresenter makes the earliest moderator in the room (by joining
// time) the presenter when nobody in the room is: at the start, and when
// the presenter left. The caller holds l.mu.
func (l *live) ensurePresenter(ds []delivery) []delivery {
	var mods []*member
	for _, o := range l.parts {
		if !o.p.InRoom {
			continue
		}
		if o.p.Presenter {
			return ds
		}
		if o.p.Role == Moderator && o.p.Kind == Browser {
			mods = append(mods, o)
		}
	}
	if len(mods) == 0 {
		return ds
	}
	sort.Slice(mods, func(i, j int) bool {
		if !mods[i].p.JoinedAt.Equal(mods[j].p.JoinedAt) {
			return mods[i].p.JoinedAt.Before(mods[j].p.JoinedAt)
		}
		return mods[i].p.ID < mods[j].p.ID
	})
	next := mods[0]
	before := *next.p
	next.p.Presenter = true
	l.putParticipant(next.p)
	return l.changed(ds, next, &before)
}

// SetPresenter makes participant id the meeting's one presenter
// (moderators only; a browser participant in the room).
func (m *Member) SetPresenter(_ context.Context, id string) error {
	return m.change(true, func(*member) ([]delivery, error) {
		l := m.lv
		target := l.parts[id]
		if target == nil || !target.p.InRoom {
			return nil, fmt.Errorf("%w: participant", ErrNotFound)
		}
		if target.p.Kind != Browser {
			return nil, fmt.Errorf("%w: phone callers cannot present", ErrForbidden)
		}
		if target.p.Presenter {
			return nil, nil
		}
		var ds []delivery
		for _, o := range l.parts {
			if o.p.Presenter {
				before := *o.p
				o.p.Presenter = false
				l.putParticipant(o.p)
				ds = l.changed(ds, o, &before)
			}
		}
		before := *target.p
		target.p.Presenter = true
		l.putParticipant(target.p)
		return l.changed(ds, target, &before), nil
	})
}

// each applies f to every participant in the room for whom skip is false;
// f reports whether it changed p. Changes are stored and told. The caller
// holds l.mu.
func (l *live) each(skip func(*Participant) bool, f func(*Participant) bool) []delivery {
	var ds []delivery
	for _, o := range l.parts {
		if !o.p.InRoom || skip(o.p) {
			continue
		}
		before := *o.p
		if f(o.p) {
			l.putParticipant(o.p)
			ds = l.changed(ds, o, &before)
		}
	}
	return ds
}

// MuteAll mutes everyone in the room but the caller and, with
// exceptPresenter, the presenter (moderators only). Phone callers too.
// Nobody is ever unmuted by someone else.
func (m *Member) MuteAll(_ context.Context, exceptPresenter bool) error {
	return m.change(true, func(*member) ([]delivery, error) {
		skip := func(p *Participant) bool { return p.ID == m.id || exceptPresenter && p.Presenter }
		return m.lv.each(skip, func(p *Participant) bool {
			if p.Muted && !p.Audio {
				return false
			}
			p.Muted, p.Audio = true, false
			return true
		}), nil
	})
}

// LowerAllHands lowers every raised hand (moderators only).
func (m *Member) LowerAllHands(context.Context) error {
	return m.change(true, func(*member) ([]delivery, error) {
		return m.lv.each(func(*Participant) bool { return false }, func(p *Participant) bool {
			if !p.RaisedHand {
				return false
			}
			p.RaisedHand, p.HandRaisedAt = false, time.Time{}
			return true
		}), nil
	})
}

// SetAway sets one's own "away" status.
func (m *Member) SetAway(_ context.Context, away bool) error {
	return m.update(m.id, false, func(p *Participant) error { p.Away = away; return nil })
}
