package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"aula/room"
)

// Redis is the store shared by several nodes. It writes the key schema of
// keys.go, every key with a TTL. Commands that touch one meeting's keys run
// in MULTI transactions; those keys share a Cluster hash tag, so the code
// works unchanged on Redis Cluster. Operations that span slots (the PIN,
// the meeting index, session keys) are ordered so that a crash in between
// leaves only keys that expire on their own.
type Redis struct {
	c   redis.UniversalClient
	log *slog.Logger
}

var _ room.Store = (*Redis)(nil)

// NewRedis connects to the server at url (redis://, rediss:// or unix://,
// as redis.ParseURL reads them, e.g. unix:///run/redis.sock?db=2) and
// checks that it answers.
func NewRedis(ctx context.Context, url string, log *slog.Logger) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		// net/url's errors quote the whole URL, password included: keep
		// only the reason, since this message ends up in logs.
		var uerr *neturl.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%w: %v", ErrRedisURL, err)
	}
	return NewRedisClient(ctx, redis.NewClient(opts), log)
}

// NewRedisClient wraps an existing client (a Sentinel failover or Cluster
// client too) and pings it; on failure the client is closed.
func NewRedisClient(ctx context.Context, c redis.UniversalClient, log *slog.Logger) (*Redis, error) {
	if log == nil {
		log = slog.Default()
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: ping: %w", ErrUnavailable, err)
	}
	log = log.With("component", "store")
	log.Info("store: Redis")
	return &Redis{c: c, log: log}, nil
}

// Client is the underlying client (tests and metrics).
func (s *Redis) Client() redis.UniversalClient { return s.c }

// Ping checks that the server answers.
func (s *Redis) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Redis) Close() error { return s.c.Close() }

// delIfEquals deletes KEYS[1] only while it still holds ARGV[1], so undoing
// a PIN reservation or wiping a meeting never frees a PIN that meanwhile
// belongs to another meeting.
var delIfEquals = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`)

// indexAdd adds ARGV[1] to the hash KEYS[1] and extends (never shortens)
// its TTL to ARGV[2] ms: the index is shared by all meetings, and one
// meeting's short TTL must not drop the others from it. Works on any Redis
// version (PEXPIRE GT needs 7.0 and ignores keys without TTL).
var indexAdd = redis.NewScript(`
if ARGV[1] ~= '' then
	redis.call('HSET', KEYS[1], ARGV[1], '')
end
if redis.call('EXISTS', KEYS[1]) == 1 then
	local t = redis.call('PTTL', KEYS[1])
	if t < tonumber(ARGV[2]) then
		redis.call('PEXPIRE', KEYS[1], ARGV[2])
	end
end
return 1`)

func ms(d time.Duration) int64 {
	if d < time.Millisecond {
		return 1
	}
	return d.Milliseconds()
}

// notFound maps redis.Nil to room.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, redis.Nil) {
		return room.ErrNotFound
	}
	return err
}

func (s *Redis) CreateMeeting(ctx context.Context, m *room.Meeting, ttl time.Duration) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meeting: %w", err)
	}
	idkey, pkey := KeyMeetingID(room.KeyOf(m.MeetingID)), KeyPIN(m.PIN)
	// The meetingID first, then the PIN, each with SET NX: they decide
	// races between nodes. A failure undoes what was reserved.
	ok, err := s.c.SetNX(ctx, idkey, m.Key, ttl).Result()
	if err != nil {
		return err
	}
	if !ok {
		return room.ErrExists
	}
	undo := func() {
		if uerr := delIfEquals.Run(ctx, s.c, []string{idkey}, m.Key).Err(); uerr != nil {
			s.log.Warn("undo meetingID reservation", "meeting", m.Key, "err", uerr)
		}
	}
	ok, err = s.c.SetNX(ctx, pkey, m.Key, ttl).Result()
	if err != nil || !ok {
		undo()
		if err != nil {
			return err
		}
		return room.ErrPINTaken
	}
	ok, err = s.c.SetNX(ctx, KeyMeeting(m.Key), v, ttl).Result()
	if err != nil || !ok {
		if uerr := delIfEquals.Run(ctx, s.c, []string{pkey}, m.Key).Err(); uerr != nil {
			s.log.Warn("undo PIN reservation", "meeting", m.Key, "err", uerr)
		}
		undo()
		if err != nil {
			return err
		}
		return room.ErrExists
	}
	return indexAdd.Run(ctx, s.c, []string{KeyMeetings}, m.Key, ms(ttl)).Err()
}

// claim sets KEYS[1] to ARGV[1] with TTL ARGV[2] ms when it is free or
// already holds ARGV[1] (renewed then); 0 when it holds something else.
var claim = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

func (s *Redis) RestoreMeeting(ctx context.Context, m *room.Meeting, ttl time.Duration) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meeting: %w", err)
	}
	n, err := claim.Run(ctx, s.c, []string{KeyMeetingID(room.KeyOf(m.MeetingID))}, m.Key, ms(ttl)).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return room.ErrExists
	}
	if n, err = claim.Run(ctx, s.c, []string{KeyPIN(m.PIN)}, m.Key, ms(ttl)).Int(); err != nil {
		return err
	}
	if n == 0 {
		return room.ErrPINTaken
	}
	if err := s.c.Set(ctx, KeyMeeting(m.Key), v, ttl).Err(); err != nil {
		return err
	}
	return indexAdd.Run(ctx, s.c, []string{KeyMeetings}, m.Key, ms(ttl)).Err()
}

func (s *Redis) MeetingKeyByID(ctx context.Context, idKey string) (string, error) {
	k, err := s.c.Get(ctx, KeyMeetingID(idKey)).Result()
	if err != nil {
		return "", notFound(err)
	}
	return k, nil
}

func (s *Redis) UpdateMeeting(ctx context.Context, m *room.Meeting, ttl time.Duration) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meeting: %w", err)
	}
	// XX: an ended (wiped) meeting must not come back from a late write.
	ok, err := s.c.SetXX(ctx, KeyMeeting(m.Key), v, ttl).Result()
	if err != nil {
		return err
	}
	if !ok {
		return room.ErrNotFound
	}
	return nil
}

func decodeMeeting(b []byte) (*room.Meeting, error) {
	var m room.Meeting
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode meeting: %w", err)
	}
	return &m, nil
}

func (s *Redis) GetMeeting(ctx context.Context, key string) (*room.Meeting, error) {
	b, err := s.c.Get(ctx, KeyMeeting(key)).Bytes()
	if err != nil {
		return nil, notFound(err)
	}
	return decodeMeeting(b)
}

// ListMeetings reads the index and drops entries whose meeting expired
// (a node died without wiping it).
func (s *Redis) ListMeetings(ctx context.Context) ([]*room.Meeting, error) {
	keys, err := s.c.HKeys(ctx, KeyMeetings).Result()
	if err != nil {
		return nil, err
	}
	sort.Strings(keys)
	// One GET per meeting in a plain pipeline: MGET would cross Cluster slots.
	cmds := make([]*redis.StringCmd, len(keys))
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, KeyMeeting(k))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]*room.Meeting, 0, len(keys))
	var gone []string
	for i, c := range cmds {
		b, err := c.Bytes()
		if errors.Is(err, redis.Nil) {
			gone = append(gone, keys[i])
			continue
		}
		if err != nil {
			return nil, err
		}
		m, err := decodeMeeting(b)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if len(gone) > 0 {
		if err := s.c.HDel(ctx, KeyMeetings, gone...).Err(); err != nil {
			s.log.Warn("prune meeting index", "err", err)
		}
	}
	return out, nil
}

func (s *Redis) MeetingByPIN(ctx context.Context, pin string) (string, error) {
	k, err := s.c.Get(ctx, KeyPIN(pin)).Result()
	if err != nil {
		return "", notFound(err)
	}
	return k, nil
}

// hashPut sets one field of a hash and its TTL in one transaction, so the
// hash never exists without a TTL.
func (s *Redis) hashPut(ctx context.Context, key, field string, v []byte, ttl time.Duration) error {
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, field, v)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	return err
}

func (s *Redis) PutParticipant(ctx context.Context, mk string, p *room.Participant, ttl time.Duration) error {
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode participant: %w", err)
	}
	return s.hashPut(ctx, KeyParticipants(mk), p.ID, v, ttl)
}

func (s *Redis) DeleteParticipant(ctx context.Context, mk, id string) error {
	// Redis drops the hash with its last field.
	return s.c.HDel(ctx, KeyParticipants(mk), id).Err()
}

func (s *Redis) ListParticipants(ctx context.Context, mk string) ([]*room.Participant, error) {
	vals, err := s.c.HVals(ctx, KeyParticipants(mk)).Result()
	if err != nil {
		return nil, err
	}
	out := make([]*room.Participant, 0, len(vals))
	for _, v := range vals {
		var p room.Participant
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return nil, fmt.Errorf("decode participant: %w", err)
		}
		out = append(out, &p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].JoinedAt.Before(out[j].JoinedAt) })
	return out, nil
}

func (s *Redis) AppendChat(ctx context.Context, mk string, msg *room.ChatMessage, max int, ttl time.Duration) error {
	v, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode chat: %w", err)
	}
	k := KeyChat(mk)
	_, err = s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, k, v)
		if max > 0 {
			p.LTrim(ctx, k, int64(-max), -1)
		}
		p.PExpire(ctx, k, ttl)
		return nil
	})
	return err
}

func (s *Redis) ListChat(ctx context.Context, mk string) ([]*room.ChatMessage, error) {
	vals, err := s.c.LRange(ctx, KeyChat(mk), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]*room.ChatMessage, 0, len(vals))
	for _, v := range vals {
		var c room.ChatMessage
		if err := json.Unmarshal([]byte(v), &c); err != nil {
			return nil, fmt.Errorf("decode chat: %w", err)
		}
		out = append(out, &c)
	}
	return out, nil
}

func (s *Redis) PutSession(ctx context.Context, th string, sess *room.Session, ttl time.Duration) error {
	v, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	// Index first: a session key must never exist that the meeting's wipe
	// cannot find.
	if err := s.hashPut(ctx, KeySessions(sess.MeetingKey), th, nil, ttl); err != nil {
		return err
	}
	return s.c.Set(ctx, KeySession(th), v, ttl).Err()
}

func (s *Redis) GetSession(ctx context.Context, th string) (*room.Session, error) {
	b, err := s.c.Get(ctx, KeySession(th)).Bytes()
	if err != nil {
		return nil, notFound(err)
	}
	var sess room.Session
	if err := json.Unmarshal(b, &sess); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	return &sess, nil
}

// takeJoin returns KEYS[1] and deletes it in the same step unless the
// session was already redeemed: Redis runs a script atomically, so of
// concurrent redeems of one join link exactly one gets the session.
var takeJoin = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
local ok, s = pcall(cjson.decode, v)
if ok and type(s) == 'table' and s.used == true then return v end
redis.call('DEL', KEYS[1])
return v`)

func (s *Redis) TakeJoinSession(ctx context.Context, th string) (*room.Session, error) {
	b, err := takeJoin.Run(ctx, s.c, []string{KeySession(th)}).Text()
	if err != nil {
		return nil, notFound(err)
	}
	var sess room.Session
	if err := json.Unmarshal([]byte(b), &sess); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	if !sess.Used {
		// The index entry of a deleted key; the wipe would skip it anyway.
		if err := s.c.HDel(ctx, KeySessions(sess.MeetingKey), th).Err(); err != nil {
			s.log.Warn("drop redeemed session from index", "err", err)
		}
	}
	return &sess, nil
}

func (s *Redis) DeleteSession(ctx context.Context, th string) error {
	sess, err := s.GetSession(ctx, th)
	if errors.Is(err, room.ErrNotFound) {
		return nil
	}
	if err != nil {
		// Undecodable: delete the key anyway.
		return s.c.Del(ctx, KeySession(th)).Err()
	}
	if err := s.c.Del(ctx, KeySession(th)).Err(); err != nil {
		return err
	}
	return s.c.HDel(ctx, KeySessions(sess.MeetingKey), th).Err()
}

func (s *Redis) PutState(ctx context.Context, mk, name string, v []byte, ttl time.Duration) error {
	return s.hashPut(ctx, KeyState(mk), name, v, ttl)
}

func (s *Redis) GetState(ctx context.Context, mk, name string) ([]byte, error) {
	b, err := s.c.HGet(ctx, KeyState(mk), name).Bytes()
	if err != nil {
		return nil, notFound(err)
	}
	return b, nil
}

func (s *Redis) ClearChat(ctx context.Context, mk string) error {
	return s.c.Del(ctx, KeyChat(mk)).Err()
}

func (s *Redis) AppendLog(ctx context.Context, mk, name string, v []byte, ttl time.Duration) (int, error) {
	logs, list := KeyLogs(mk), KeyLog(mk, name)
	var n *redis.IntCmd
	// One slot, one transaction: the log never exists unregistered or
	// without a TTL.
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSetNX(ctx, logs, name, "")
		p.PExpire(ctx, logs, ttl)
		n = p.RPush(ctx, list, v)
		p.PExpire(ctx, list, ttl)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n.Val()), nil
}

func (s *Redis) ReadLog(ctx context.Context, mk, name string) ([]byte, [][]byte, error) {
	var snap *redis.StringCmd
	var list *redis.StringSliceCmd
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		snap = p.HGet(ctx, KeyLogs(mk), name)
		list = p.LRange(ctx, KeyLog(mk, name), 0, -1)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, err
	}
	var out []byte
	if b, err := snap.Bytes(); err == nil && len(b) > 0 {
		out = b
	}
	var entries [][]byte
	for _, v := range list.Val() {
		entries = append(entries, []byte(v))
	}
	return out, entries, nil
}

func (s *Redis) CompactLog(ctx context.Context, mk, name string, snap []byte, drop int, ttl time.Duration) error {
	logs, list := KeyLogs(mk), KeyLog(mk, name)
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, logs, name, snap)
		p.PExpire(ctx, logs, ttl)
		if drop < 0 {
			p.Del(ctx, list)
		} else if drop > 0 {
			p.LTrim(ctx, list, int64(drop), -1)
		}
		return nil
	})
	return err
}

func (s *Redis) AcquireLease(ctx context.Context, mk, node string, ttl time.Duration) (bool, error) {
	n, err := claim.Run(ctx, s.c, []string{KeyLease(mk)}, node, ms(ttl)).Int()
	return n == 1, err
}

func (s *Redis) ReleaseLease(ctx context.Context, mk, node string) error {
	return delIfEquals.Run(ctx, s.c, []string{KeyLease(mk)}, node).Err()
}

func (s *Redis) LeaseOwner(ctx context.Context, mk string) (string, error) {
	v, err := s.c.Get(ctx, KeyLease(mk)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// requestEnd sets KEYS[2] only while the meeting record KEYS[1] exists,
// so a late request cannot leave a key of an ended meeting behind.
var requestEnd = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1`)

func (s *Redis) RequestEnd(ctx context.Context, mk, reason string, ttl time.Duration) error {
	n, err := requestEnd.Run(ctx, s.c, []string{KeyMeeting(mk), KeyEnd(mk)}, reason, ms(ttl)).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return room.ErrNotFound
	}
	return nil
}

func (s *Redis) EndRequested(ctx context.Context, mk string) (string, error) {
	v, err := s.c.Get(ctx, KeyEnd(mk)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// meetingKeys returns the keys of one meeting: those in its hash slot
// (without the lease, which keeps its own TTL), its session keys (from the
// sessions index), its PIN and meetingID reservation (from the record).
// found tells whether the record exists.
func (s *Redis) meetingKeys(ctx context.Context, mk string) (slot, sessions []string, pin, idKey string, found bool, err error) {
	slot = []string{KeyMeeting(mk), KeyParticipants(mk), KeyChat(mk), KeySessions(mk), KeyState(mk), KeyLogs(mk), KeyEnd(mk)}
	var get *redis.StringCmd
	var hk, logs *redis.StringSliceCmd
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, KeyMeeting(mk))
		hk = p.HKeys(ctx, KeySessions(mk))
		logs = p.HKeys(ctx, KeyLogs(mk))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, "", "", false, err
	}
	if b, gerr := get.Bytes(); gerr == nil {
		found = true
		if m, derr := decodeMeeting(b); derr == nil {
			pin, idKey = m.PIN, room.KeyOf(m.MeetingID)
		}
	}
	for _, th := range hk.Val() {
		sessions = append(sessions, KeySession(th))
	}
	for _, name := range logs.Val() {
		slot = append(slot, KeyLog(mk, name))
	}
	return slot, sessions, pin, idKey, found, nil
}

// pexpireIfEquals refreshes KEYS[1]'s TTL only while it holds ARGV[1].
const pexpireIfEquals = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`

// Touch refreshes the TTL of every key of the meeting, and extends the
// meeting index's.
func (s *Redis) Touch(ctx context.Context, mk string, ttl time.Duration) error {
	slot, sessions, pin, idKey, found, err := s.meetingKeys(ctx, mk)
	if err != nil {
		return err
	}
	if !found {
		return room.ErrNotFound
	}
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range slot {
			p.PExpire(ctx, k, ttl)
		}
		for _, k := range sessions {
			p.PExpire(ctx, k, ttl)
		}
		// Only while the PIN and meetingID are still this meeting's (they
		// always are while the record lives; the check is cheap insurance).
		if pin != "" {
			p.Eval(ctx, pexpireIfEquals, []string{KeyPIN(pin)}, mk, ms(ttl))
		}
		if idKey != "" {
			p.Eval(ctx, pexpireIfEquals, []string{KeyMeetingID(idKey)}, mk, ms(ttl))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return indexAdd.Run(ctx, s.c, []string{KeyMeetings}, "", ms(ttl)).Err()
}

// DeleteMeeting removes every key of the meeting. The record goes last, so
// a wipe cut short can be repeated: it still finds the PIN and sessions.
func (s *Redis) DeleteMeeting(ctx context.Context, mk string) error {
	slot, sessions, pin, idKey, _, err := s.meetingKeys(ctx, mk)
	if err != nil {
		return err
	}
	for _, k := range sessions {
		if err := s.c.Del(ctx, k).Err(); err != nil {
			return err
		}
	}
	if pin != "" {
		if err := delIfEquals.Run(ctx, s.c, []string{KeyPIN(pin)}, mk).Err(); err != nil {
			return err
		}
	}
	if idKey != "" {
		if err := delIfEquals.Run(ctx, s.c, []string{KeyMeetingID(idKey)}, mk).Err(); err != nil {
			return err
		}
	}
	if err := s.c.HDel(ctx, KeyMeetings, mk).Err(); err != nil {
		return err
	}
	// The meeting's own keys share a slot: one DEL, record last.
	return s.c.Del(ctx, append(append(slot[1:], KeyLease(mk)), slot[0])...).Err()
}

// scanKeys lists one node's keys under Prefix (SCAN, never KEYS, so a
// busy server is not blocked).
func scanKeys(ctx context.Context, c *redis.Client) ([]string, error) {
	it := c.Scan(ctx, 0, Prefix+"*", 200).Iterator()
	var keys []string
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	return keys, it.Err()
}

// Keys returns every key under Prefix with its remaining TTL (-1: none), so
// tests can prove that every key expires and that a wipe leaves nothing.
func (s *Redis) Keys(ctx context.Context) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	var mu sync.Mutex // a Cluster's masters are visited concurrently
	err := s.eachNode(ctx, func(ctx context.Context, c *redis.Client) error {
		keys, err := scanKeys(ctx, c)
		if err != nil {
			return err
		}
		for _, k := range keys {
			d, err := c.PTTL(ctx, k).Result()
			if err != nil {
				return err
			}
			mu.Lock()
			switch {
			case d == -2: // expired since the scan
			case d < 0:
				out[k] = -1
			default:
				out[k] = d
			}
			mu.Unlock()
		}
		return nil
	})
	return out, err
}

// Dump returns every key under Prefix with its value rendered as text
// (hash fields and values, list items), so tests can search the whole store
// for data that must never be in it.
func (s *Redis) Dump(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	var mu sync.Mutex
	err := s.eachNode(ctx, func(ctx context.Context, c *redis.Client) error {
		keys, err := scanKeys(ctx, c)
		if err != nil {
			return err
		}
		for _, k := range keys {
			typ, err := c.Type(ctx, k).Result()
			if err != nil {
				return err
			}
			var b strings.Builder
			switch typ {
			case "none":
				continue
			case "string":
				v, err := c.Get(ctx, k).Result()
				if err != nil && !errors.Is(err, redis.Nil) {
					return err
				}
				b.WriteString(v)
			case "hash":
				h, err := c.HGetAll(ctx, k).Result()
				if err != nil {
					return err
				}
				fs := make([]string, 0, len(h))
				for f := range h {
					fs = append(fs, f)
				}
				sort.Strings(fs)
				for _, f := range fs {
					b.WriteString(f)
					b.WriteString(h[f])
				}
			case "list":
				l, err := c.LRange(ctx, k, 0, -1).Result()
				if err != nil {
					return err
				}
				for _, v := range l {
					b.WriteString(v)
				}
			default:
				// Aula writes no other type; show it so a test notices.
				b.WriteString("<" + typ + ">")
			}
			mu.Lock()
			out[k] = b.String()
			mu.Unlock()
		}
		return nil
	})
	return out, err
}

// eachNode runs f on every node that holds keys: each master of a Cluster,
// else the one server.
func (s *Redis) eachNode(ctx context.Context, f func(context.Context, *redis.Client) error) error {
	switch c := s.c.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, f)
	case *redis.Client:
		return f(ctx, c)
	default:
		return fmt.Errorf("store: cannot inspect a %T", s.c)
	}
}
