package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"aula/room"
)

// Memory is the embedded store for a single node: the same key schema and
// TTL rules as Redis, kept in a map. Values are stored serialised so that
// callers never share memory with the store.
type Memory struct {
	mu   sync.Mutex
	now  func() time.Time
	data map[string]*entry
}

type entry struct {
	str     []byte            // string keys
	hash    map[string][]byte // hash keys
	list    [][]byte          // list keys
	expires time.Time
}

// NewMemory returns an empty in-memory store. now may be nil (time.Now);
// tests pass a clock to see TTLs expire without sleeping.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, data: map[string]*entry{}}
}

var _ room.Store = (*Memory)(nil)

// get returns a live entry, dropping it if expired. Caller holds mu.
func (s *Memory) get(key string) *entry {
	e := s.data[key]
	if e != nil && !e.expires.IsZero() && !s.now().Before(e.expires) {
		delete(s.data, key)
		return nil
	}
	return e
}

func (s *Memory) put(key string, e *entry, ttl time.Duration) {
	e.expires = s.now().Add(ttl)
	s.data[key] = e
}

func (s *Memory) expire(key string, ttl time.Duration) {
	if e := s.get(key); e != nil {
		e.expires = s.now().Add(ttl)
	}
}

// Keys returns every live key with its remaining TTL (tests: every key has one).
func (s *Memory) Keys() map[string]time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Duration{}
	for k := range s.data {
		if e := s.get(k); e != nil {
			if e.expires.IsZero() {
				out[k] = -1
			} else {
				out[k] = e.expires.Sub(s.now())
			}
		}
	}
	return out
}

// Drop deletes one key, as an operator with redis-cli could (tests: a
// store that lost its data).
func (s *Memory) Drop(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
}

// Dump returns every live key with its value rendered as text, so tests can
// search the whole store for data that must never be in it.
func (s *Memory) Dump() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k := range s.data {
		e := s.get(k)
		if e == nil {
			continue
		}
		var b strings.Builder
		b.Write(e.str)
		for f, v := range e.hash {
			b.WriteString(f)
			b.Write(v)
		}
		for _, v := range e.list {
			b.Write(v)
		}
		out[k] = b.String()
	}
	return out
}

func (s *Memory) CreateMeeting(_ context.Context, m *room.Meeting, ttl time.Duration) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meeting: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.get(KeyMeetingID(room.KeyOf(m.MeetingID))) != nil || s.get(KeyMeeting(m.Key)) != nil {
		return room.ErrExists
	}
	if s.get(KeyPIN(m.PIN)) != nil {
		return room.ErrPINTaken
	}
	s.writeMeeting(m, v, ttl)
	return nil
}

// writeMeeting stores the record, the meetingID and PIN reservations and
// the index entry; caller holds mu.
func (s *Memory) writeMeeting(m *room.Meeting, v []byte, ttl time.Duration) {
	s.put(KeyMeetingID(room.KeyOf(m.MeetingID)), &entry{str: []byte(m.Key)}, ttl)
	s.put(KeyMeeting(m.Key), &entry{str: v}, ttl)
	s.put(KeyPIN(m.PIN), &entry{str: []byte(m.Key)}, ttl)
	idx := s.get(KeyMeetings)
	if idx == nil {
		idx = &entry{hash: map[string][]byte{}}
		s.put(KeyMeetings, idx, ttl)
	}
	idx.hash[m.Key] = nil
	s.extend(KeyMeetings, ttl)
}

func (s *Memory) RestoreMeeting(_ context.Context, m *room.Meeting, ttl time.Duration) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meeting: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.get(KeyMeetingID(room.KeyOf(m.MeetingID))); e != nil && string(e.str) != m.Key {
		return room.ErrExists
	}
	if e := s.get(KeyPIN(m.PIN)); e != nil && string(e.str) != m.Key {
		return room.ErrPINTaken
	}
	s.writeMeeting(m, v, ttl)
	return nil
}

func (s *Memory) MeetingKeyByID(_ context.Context, idKey string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(KeyMeetingID(idKey))
	if e == nil {
		return "", room.ErrNotFound
	}
	return string(e.str), nil
}

// extend lengthens a key's TTL to ttl but never shortens it: the meeting
// index is shared, and one meeting's short TTL must not drop the others.
func (s *Memory) extend(key string, ttl time.Duration) {
	if e := s.get(key); e != nil {
		if exp := s.now().Add(ttl); exp.After(e.expires) {
			e.expires = exp
		}
	}
}

func (s *Memory) UpdateMeeting(_ context.Context, m *room.Meeting, ttl time.Duration) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meeting: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.get(KeyMeeting(m.Key)) == nil {
		return room.ErrNotFound
	}
	s.put(KeyMeeting(m.Key), &entry{str: v}, ttl)
	return nil
}

func (s *Memory) GetMeeting(_ context.Context, key string) (*room.Meeting, error) {
	s.mu.Lock()
	e := s.get(KeyMeeting(key))
	s.mu.Unlock()
	if e == nil {
		return nil, room.ErrNotFound
	}
	var m room.Meeting
	if err := json.Unmarshal(e.str, &m); err != nil {
		return nil, fmt.Errorf("decode meeting: %w", err)
	}
	return &m, nil
}

func (s *Memory) ListMeetings(ctx context.Context) ([]*room.Meeting, error) {
	s.mu.Lock()
	var keys []string
	if idx := s.get(KeyMeetings); idx != nil {
		for k := range idx.hash {
			if s.get(KeyMeeting(k)) != nil {
				keys = append(keys, k)
			} else {
				delete(idx.hash, k)
			}
		}
	}
	s.mu.Unlock()
	sort.Strings(keys)
	out := make([]*room.Meeting, 0, len(keys))
	for _, k := range keys {
		m, err := s.GetMeeting(ctx, k)
		if err == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *Memory) MeetingByPIN(_ context.Context, pin string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(KeyPIN(pin))
	if e == nil {
		return "", room.ErrNotFound
	}
	return string(e.str), nil
}

func (s *Memory) hashPut(key, field string, v []byte, ttl time.Duration) {
	e := s.get(key)
	if e == nil {
		e = &entry{hash: map[string][]byte{}}
	}
	e.hash[field] = v
	s.put(key, e, ttl)
}

func (s *Memory) PutParticipant(_ context.Context, mk string, p *room.Participant, ttl time.Duration) error {
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode participant: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashPut(KeyParticipants(mk), p.ID, v, ttl)
	return nil
}

func (s *Memory) DeleteParticipant(_ context.Context, mk, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.get(KeyParticipants(mk)); e != nil {
		delete(e.hash, id)
		if len(e.hash) == 0 {
			delete(s.data, KeyParticipants(mk))
		}
	}
	return nil
}

func (s *Memory) ListParticipants(_ context.Context, mk string) ([]*room.Participant, error) {
	s.mu.Lock()
	var vals [][]byte
	if e := s.get(KeyParticipants(mk)); e != nil {
		for _, v := range e.hash {
			vals = append(vals, v)
		}
	}
	s.mu.Unlock()
	out := make([]*room.Participant, 0, len(vals))
	for _, v := range vals {
		var p room.Participant
		if err := json.Unmarshal(v, &p); err != nil {
			return nil, fmt.Errorf("decode participant: %w", err)
		}
		out = append(out, &p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].JoinedAt.Before(out[j].JoinedAt) })
	return out, nil
}

func (s *Memory) AppendChat(_ context.Context, mk string, msg *room.ChatMessage, max int, ttl time.Duration) error {
	v, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode chat: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(KeyChat(mk))
	if e == nil {
		e = &entry{}
	}
	e.list = append(e.list, v)
	if max > 0 && len(e.list) > max {
		e.list = e.list[len(e.list)-max:]
	}
	s.put(KeyChat(mk), e, ttl)
	return nil
}

func (s *Memory) ListChat(_ context.Context, mk string) ([]*room.ChatMessage, error) {
	s.mu.Lock()
	var vals [][]byte
	if e := s.get(KeyChat(mk)); e != nil {
		vals = append(vals, e.list...)
	}
	s.mu.Unlock()
	out := make([]*room.ChatMessage, 0, len(vals))
	for _, v := range vals {
		var c room.ChatMessage
		if err := json.Unmarshal(v, &c); err != nil {
			return nil, fmt.Errorf("decode chat: %w", err)
		}
		out = append(out, &c)
	}
	return out, nil
}

func (s *Memory) PutSession(_ context.Context, th string, sess *room.Session, ttl time.Duration) error {
	v, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(KeySession(th), &entry{str: v}, ttl)
	s.hashPut(KeySessions(sess.MeetingKey), th, nil, ttl)
	return nil
}

func (s *Memory) GetSession(_ context.Context, th string) (*room.Session, error) {
	s.mu.Lock()
	e := s.get(KeySession(th))
	s.mu.Unlock()
	if e == nil {
		return nil, room.ErrNotFound
	}
	var sess room.Session
	if err := json.Unmarshal(e.str, &sess); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	return &sess, nil
}

func (s *Memory) TakeJoinSession(_ context.Context, th string) (*room.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(KeySession(th))
	if e == nil {
		return nil, room.ErrNotFound
	}
	var sess room.Session
	if err := json.Unmarshal(e.str, &sess); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	if !sess.Used {
		s.deleteSession(th, e)
	}
	return &sess, nil
}

func (s *Memory) DeleteSession(_ context.Context, th string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(KeySession(th))
	if e == nil {
		return nil
	}
	s.deleteSession(th, e)
	return nil
}

// deleteSession removes the session key e of th and its index entry;
// caller holds mu.
func (s *Memory) deleteSession(th string, e *entry) {
	delete(s.data, KeySession(th))
	// Drop it from its meeting's index too, so the index does not grow
	// with every redeemed join token.
	var sess room.Session
	if json.Unmarshal(e.str, &sess) == nil {
		if idx := s.get(KeySessions(sess.MeetingKey)); idx != nil {
			delete(idx.hash, th)
			if len(idx.hash) == 0 {
				delete(s.data, KeySessions(sess.MeetingKey))
			}
		}
	}
}

func (s *Memory) PutState(_ context.Context, mk, name string, v []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashPut(KeyState(mk), name, append([]byte(nil), v...), ttl)
	return nil
}

func (s *Memory) GetState(_ context.Context, mk, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(KeyState(mk))
	if e == nil {
		return nil, room.ErrNotFound
	}
	v, ok := e.hash[name]
	if !ok {
		return nil, room.ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

func (s *Memory) ClearChat(_ context.Context, mk string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, KeyChat(mk))
	return nil
}

func (s *Memory) AppendLog(_ context.Context, mk, name string, v []byte, ttl time.Duration) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	logs := s.get(KeyLogs(mk))
	if logs == nil {
		logs = &entry{hash: map[string][]byte{}}
	}
	if _, ok := logs.hash[name]; !ok {
		logs.hash[name] = nil
	}
	s.put(KeyLogs(mk), logs, ttl)
	e := s.get(KeyLog(mk, name))
	if e == nil {
		e = &entry{}
	}
	e.list = append(e.list, append([]byte(nil), v...))
	s.put(KeyLog(mk, name), e, ttl)
	return len(e.list), nil
}

func (s *Memory) ReadLog(_ context.Context, mk, name string) ([]byte, [][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snap []byte
	if logs := s.get(KeyLogs(mk)); logs != nil && len(logs.hash[name]) > 0 {
		snap = append([]byte(nil), logs.hash[name]...)
	}
	var entries [][]byte
	if e := s.get(KeyLog(mk, name)); e != nil {
		for _, v := range e.list {
			entries = append(entries, append([]byte(nil), v...))
		}
	}
	return snap, entries, nil
}

func (s *Memory) CompactLog(_ context.Context, mk, name string, snap []byte, drop int, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashPut(KeyLogs(mk), name, append([]byte(nil), snap...), ttl)
	e := s.get(KeyLog(mk, name))
	if e == nil {
		return nil
	}
	if drop < 0 || drop >= len(e.list) {
		delete(s.data, KeyLog(mk, name))
		return nil
	}
	e.list = append([][]byte(nil), e.list[drop:]...)
	return nil
}

func (s *Memory) AcquireLease(_ context.Context, mk, node string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(KeyLease(mk))
	if e != nil && string(e.str) != node {
		return false, nil
	}
	s.put(KeyLease(mk), &entry{str: []byte(node)}, ttl)
	return true, nil
}

func (s *Memory) ReleaseLease(_ context.Context, mk, node string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.get(KeyLease(mk)); e != nil && string(e.str) == node {
		delete(s.data, KeyLease(mk))
	}
	return nil
}

func (s *Memory) LeaseOwner(_ context.Context, mk string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.get(KeyLease(mk)); e != nil {
		return string(e.str), nil
	}
	return "", nil
}

func (s *Memory) RequestEnd(_ context.Context, mk, reason string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.get(KeyMeeting(mk)) == nil {
		return room.ErrNotFound
	}
	s.put(KeyEnd(mk), &entry{str: []byte(reason)}, ttl)
	return nil
}

func (s *Memory) EndRequested(_ context.Context, mk string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.get(KeyEnd(mk)); e != nil {
		return string(e.str), nil
	}
	return "", nil
}

// meetingKeys lists every key of a meeting that Touch refreshes (not its
// lease, which has its own TTL); caller holds mu.
func (s *Memory) meetingKeys(mk string) []string {
	keys := []string{KeyMeeting(mk), KeyParticipants(mk), KeyChat(mk), KeySessions(mk), KeyState(mk), KeyLogs(mk), KeyEnd(mk)}
	if e := s.get(KeyMeeting(mk)); e != nil {
		var m room.Meeting
		// The PIN and meetingID only while they are still this meeting's.
		if json.Unmarshal(e.str, &m) == nil {
			if p := s.get(KeyPIN(m.PIN)); m.PIN != "" && p != nil && string(p.str) == mk {
				keys = append(keys, KeyPIN(m.PIN))
			}
			if p := s.get(KeyMeetingID(room.KeyOf(m.MeetingID))); p != nil && string(p.str) == mk {
				keys = append(keys, KeyMeetingID(room.KeyOf(m.MeetingID)))
			}
		}
	}
	if e := s.get(KeySessions(mk)); e != nil {
		for th := range e.hash {
			keys = append(keys, KeySession(th))
		}
	}
	if e := s.get(KeyLogs(mk)); e != nil {
		for name := range e.hash {
			keys = append(keys, KeyLog(mk, name))
		}
	}
	return keys
}

func (s *Memory) Touch(_ context.Context, mk string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.get(KeyMeeting(mk)) == nil {
		return room.ErrNotFound
	}
	for _, k := range s.meetingKeys(mk) {
		s.expire(k, ttl)
	}
	s.extend(KeyMeetings, ttl)
	return nil
}

func (s *Memory) DeleteMeeting(_ context.Context, mk string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range append(s.meetingKeys(mk), KeyLease(mk)) {
		delete(s.data, k)
	}
	if idx := s.get(KeyMeetings); idx != nil {
		delete(idx.hash, mk)
		if len(idx.hash) == 0 {
			delete(s.data, KeyMeetings)
		}
	}
	return nil
}

// Ping always succeeds: the memory store is part of the process.
func (s *Memory) Ping(context.Context) error { return nil }

func (s *Memory) Close() error { return nil }
