package room

import "context"

// Who may see and hear whom is decided here, in the domain, once: the
// roster, chat, speaking notices, the SFU's forwarding and the phone
// bridge all ask the same functions, with the meeting's current roles and
// lock settings, so a lock changed mid-meeting applies everywhere at once.

// MediaKind is the kind of a published track.
type MediaKind string

const (
	MediaMic    MediaKind = "mic"
	MediaCamera MediaKind = "camera"
	MediaScreen MediaKind = "screen"
)

// MaySee reports whether a participant of role viewer may see one of role
// subject (roster, names, speaking): under "participants cannot see each
// other" viewers see only moderators (and themselves, which callers
// handle).
func MaySee(lock LockSettings, viewer, subject Role) bool {
	return !lock.HideUserList || viewer == Moderator || subject == Moderator
}

// MayReceive is the media policy: whether a participant of role sub may
// receive the media of kind k published by one of role pub. Moderators
// send to and receive from everyone; under "participants cannot see each
// other" viewers receive only moderators; under "webcams only for
// moderators" viewers' cameras reach moderators only.
func MayReceive(lock LockSettings, sub, pub Role, k MediaKind) bool {
	if sub == Moderator || pub == Moderator {
		return true
	}
	if lock.HideUserList {
		return false
	}
	return !(k == MediaCamera && lock.WebcamsOnlyForModerator)
}

// canSee applies MaySee to two participants; the caller holds l.mu.
func (l *live) canSee(viewer, subject *Participant) bool {
	return viewer.ID == subject.ID || MaySee(l.mt.Lock, viewer.Role, subject.Role)
}

// MediaPolicy answers the media policy for one running meeting from its
// state at the moment of asking. The SFU asks it whenever it (re)computes
// a subscriber's tracks, never per packet.
type MediaPolicy struct{ l *live }

// MediaPolicy returns the policy of a meeting running on this node.
func (m *Manager) MediaPolicy(key string) (MediaPolicy, error) {
	l := m.lookup(key)
	if l == nil {
		return MediaPolicy{}, ErrNotFound
	}
	return MediaPolicy{l}, nil
}

// role returns a participant's role; anyone not (or no longer) in the
// room counts as a viewer. The caller holds l.mu.
func (l *live) role(id string) Role {
	if mem := l.parts[id]; mem != nil {
		return mem.p.Role
	}
	return Viewer
}

// CanReceive reports whether participant sub may receive pub's media of
// kind k now.
func (p MediaPolicy) CanReceive(sub, pub string, k MediaKind) bool {
	if p.l == nil {
		return false
	}
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	if p.l.ended {
		return false
	}
	return sub == pub || MayReceive(p.l.mt.Lock, p.l.role(sub), p.l.role(pub), k)
}

// CanSee reports whether participant viewer may see subject now (who is
// told that subject speaks).
func (p MediaPolicy) CanSee(viewer, subject string) bool {
	if p.l == nil {
		return false
	}
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	return viewer == subject || MaySee(p.l.mt.Lock, p.l.role(viewer), p.l.role(subject))
}

// applyLock switches off what the lock settings forbid a viewer to share
// (the media layer stops forwarding it, the client its device); the caller
// holds l.mu. It reports whether p changed.
func (l *live) applyLock(p *Participant) bool {
	if p.Role != Viewer {
		return false
	}
	changed := false
	if l.mt.Lock.DisableMic && p.Audio {
		p.Audio, changed = false, true
	}
	if l.mt.Lock.DisableCam && p.Video {
		p.Video, changed = false, true
	}
	return changed
}

// SetLock changes the meeting's lock settings (moderators only). They apply
// at once: viewers' microphones and cameras the new settings forbid are
// switched off, everyone in the room receives the new settings, and
// viewers whose view of others changed (the hidden user list) are told to
// resynchronise.
func (m *Member) SetLock(_ context.Context, lock LockSettings) error {
	return m.change(true, func(*member) ([]delivery, error) {
		l := m.lv
		old := l.mt.Lock
		if lock == old {
			return nil, nil
		}
		l.mt.Lock = lock
		l.putMeeting()
		// The new settings first, then what they switched off.
		var ds []delivery
		mt := *l.mt
		resync := old.HideUserList != lock.HideUserList
		for _, o := range l.parts {
			if o.p.InRoom && o.l != nil {
				ds = append(ds, delivery{o.l, Event{Type: EventMeetingUpdated, Meeting: &mt, Resync: resync && o.p.Role == Viewer}})
			}
		}
		for _, o := range l.parts {
			before := *o.p
			if o.p.InRoom && l.applyLock(o.p) {
				l.putParticipant(o.p)
				ds = l.changed(ds, o, &before)
			}
		}
		return ds, nil
	})
}

// MediaPolicy returns the policy of the participant's meeting.
func (m *Member) MediaPolicy() MediaPolicy { return MediaPolicy{m.lv} }
