package room

import (
	"context"
	"fmt"
)

// Sessions are made by the API join on any node and kept in the store,
// under the hash of their token. The owner of the meeting also keeps the
// ones made through it in memory, so that a store that lost its data gets
// them back with the rest of the meeting.

// NewSession vouches for an identity joining a meeting (the API join) and
// returns the session token for the cookie. The participant appears when
// its client attaches.
func (m *Manager) NewSession(ctx context.Context, key string, id Identity) (token string, s *Session, err error) {
	mt, err := m.MeetingByKey(ctx, key)
	if err != nil {
		return "", nil, err
	}
	if !id.Role.Valid() {
		return "", nil, fmt.Errorf("%w: role", ErrInvalid)
	}
	if id.Guest && mt.GuestPolicy == GuestAlwaysDeny {
		return "", nil, ErrDenied
	}
	if id.Kind == "" {
		id.Kind = Browser
	}
	id.ParticipantID = NewID()
	token = NewToken()
	s = &Session{MeetingKey: key, Slot: NewID(), Identity: id}
	if err := m.putSession(ctx, token, s); err != nil {
		return "", nil, err
	}
	return token, s, nil
}

// putSession stores a session, then checks that its meeting still exists:
// a meeting wiped meanwhile (the store deletes the record last) must not
// keep a session alive after its end.
func (m *Manager) putSession(ctx context.Context, token string, s *Session) error {
	th := HashToken(token)
	if err := m.store.PutSession(ctx, th, s, m.cfg.TTL); err != nil {
		return err
	}
	if _, err := m.MeetingByKey(ctx, s.MeetingKey); err != nil {
		if derr := m.store.DeleteSession(ctx, th); derr != nil {
			m.log.Warn("drop session of an ended meeting", "meeting", s.MeetingKey, "err", derr)
		}
		return err
	}
	if l := m.lookup(s.MeetingKey); l != nil {
		l.mu.Lock()
		if !l.ended {
			cp := *s
			l.sessions[th] = &cp
		}
		l.mu.Unlock()
	}
	return nil
}

// Session resolves a session token.
func (m *Manager) Session(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	return m.store.GetSession(ctx, HashToken(token))
}

// RedeemSession exchanges a one-time join token for a fresh session token,
// so the token that travelled in a URL stops working.
func (m *Manager) RedeemSession(ctx context.Context, token string) (newToken string, s *Session, err error) {
	if token == "" {
		return "", nil, ErrNotFound
	}
	// Read and delete in one atomic step, so that concurrent requests for
	// one link cannot each get a session.
	th := HashToken(token)
	s, err = m.store.TakeJoinSession(ctx, th)
	if err != nil {
		return "", nil, err
	}
	if s.Used {
		return "", nil, ErrNotFound
	}
	if l := m.lookup(s.MeetingKey); l != nil {
		l.mu.Lock()
		delete(l.sessions, th)
		l.mu.Unlock()
	}
	newToken = NewToken()
	s.Used = true
	if err := m.putSession(ctx, newToken, s); err != nil {
		return "", nil, err
	}
	return newToken, s, nil
}
