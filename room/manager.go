package room

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"
)

// Config tunes the Manager. Zero values take the defaults noted.
type Config struct {
	// TTL of every store key; refreshed while the meeting lives, so a node
	// that dies leaves its rooms' data behind for at most this long (10m).
	TTL time.Duration
	// ReconnectGrace keeps a dropped browser's place this long (60s).
	ReconnectGrace time.Duration
	// MaxChatLines kept per meeting (1000).
	MaxChatLines int
	// MaxChatRunes per message (5000).
	MaxChatRunes int
	// Now is the clock; tests drive time through Tick instead of sleeping.
	Now    func() time.Time
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.TTL <= 0 {
		c.TTL = 10 * time.Minute
	}
	if c.ReconnectGrace <= 0 {
		c.ReconnectGrace = time.Minute
	}
	if c.MaxChatLines <= 0 {
		c.MaxChatLines = 1000
	}
	if c.MaxChatRunes <= 0 {
		c.MaxChatRunes = 5000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Manager owns the meetings living on this node: their lifecycle, roster and
// chat. It is the only writer of meeting state to the Store.
type Manager struct {
	cfg   Config
	store Store
	files Files
	log   *slog.Logger

	mu    sync.Mutex
	rooms map[string]*live // by meeting key
	// onEnd hooks let the SFU and the SIP gateway close what they hold.
	onEnd []func(meetingKey string)
}

// NewManager returns a Manager over store and files (files may be nil).
func NewManager(cfg Config, store Store, files Files) *Manager {
	cfg.defaults()
	return &Manager{cfg: cfg, store: store, files: files, log: cfg.Logger, rooms: map[string]*live{}}
}

// OnEnd registers a hook run (outside any lock) after a meeting ended and
// before its data is wiped.
func (m *Manager) OnEnd(f func(meetingKey string)) {
	m.mu.Lock()
	m.onEnd = append(m.onEnd, f)
	m.mu.Unlock()
}

// Now is the manager's clock.
func (m *Manager) Now() time.Time { return m.cfg.Now() }

// Create creates a meeting, or returns the running one with the same
// meetingID and existed=true (BBB's idempotent create). A clash of PIN with
// another meeting is ErrPINTaken when the PIN was requested; a random PIN
// is retried.
func (m *Manager) Create(ctx context.Context, s Settings) (mt *Meeting, existed bool, err error) {
	if err := s.Validate(); err != nil {
		return nil, false, err
	}
	if s.GuestPolicy == "" {
		s.GuestPolicy = GuestAlwaysAccept
	}
	// BBB's defaults: 5 minutes for nobody joining, 1 for the empty room.
	if s.ExpireIfNoUserJoined == 0 {
		s.ExpireIfNoUserJoined = 5 * time.Minute
	}
	if s.ExpireWhenLastUserLeft == 0 {
		s.ExpireWhenLastUserLeft = time.Minute
	}
	if s.EndWhenNoModerator && s.EndWhenNoModeratorDelay == 0 {
		s.EndWhenNoModeratorDelay = time.Minute
	}
	key := KeyOf(s.MeetingID)
	if old, err := m.store.GetMeeting(ctx, key); err == nil {
		return old, true, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	mt = &Meeting{Settings: s, Key: key, CreateTime: m.cfg.Now()}
	random := s.PIN == ""
	for try := 0; ; try++ {
		if random {
			mt.PIN = randomPIN()
		}
		err = m.store.CreateMeeting(ctx, mt, m.cfg.TTL)
		if err == nil {
			break
		}
		if errors.Is(err, ErrExists) {
			// Lost a race with a concurrent create of the same meetingID.
			old, gerr := m.store.GetMeeting(ctx, key)
			if gerr != nil {
				return nil, false, gerr
			}
			return old, true, nil
		}
		if !(random && errors.Is(err, ErrPINTaken)) || try > 50 {
			return nil, false, err
		}
	}
	m.mu.Lock()
	m.rooms[key] = newLive(m, mt)
	m.mu.Unlock()
	m.log.Info("meeting created", "meeting", key)
	return mt, false, nil
}

// Meeting returns a meeting by its meetingID.
func (m *Manager) Meeting(ctx context.Context, meetingID string) (*Meeting, error) {
	return m.store.GetMeeting(ctx, KeyOf(meetingID))
}

// MeetingByKey returns a meeting by its internal key.
func (m *Manager) MeetingByKey(ctx context.Context, key string) (*Meeting, error) {
	return m.store.GetMeeting(ctx, key)
}

// MeetingByPIN returns the meeting whose voice bridge is pin.
func (m *Manager) MeetingByPIN(ctx context.Context, pin string) (*Meeting, error) {
	if !ValidPIN(pin) {
		return nil, ErrNotFound
	}
	key, err := m.store.MeetingByPIN(ctx, pin)
	if err != nil {
		return nil, err
	}
	return m.store.GetMeeting(ctx, key)
}

// Meetings lists every meeting in the store.
func (m *Manager) Meetings(ctx context.Context) ([]*Meeting, error) {
	return m.store.ListMeetings(ctx)
}

// Participants lists a meeting's participants (in the room or the lobby).
func (m *Manager) Participants(ctx context.Context, key string) ([]*Participant, error) {
	if l := m.lookup(key); l != nil {
		return l.participants(), nil
	}
	return m.store.ListParticipants(ctx, key)
}

// End ends a meeting: every participant is told, the end hooks run, and
// every key and file of the meeting is deleted.
func (m *Manager) End(ctx context.Context, key, reason string) error {
	l, err := m.room(ctx, key)
	if err != nil {
		return err
	}
	return l.end(ctx, reason)
}

// wipe removes everything of a meeting. Both deletions are attempted.
func (m *Manager) wipe(ctx context.Context, key string) error {
	err := m.store.DeleteMeeting(ctx, key)
	if m.files != nil {
		if ferr := m.files.Remove(key); ferr != nil {
			err = errors.Join(err, fmt.Errorf("remove files: %w", ferr))
		}
	}
	return err
}

// NewSession vouches for an identity joining a meeting (the API join) and
// returns the session token for the cookie. The participant appears when
// its client attaches.
func (m *Manager) NewSession(ctx context.Context, key string, id Identity) (token string, s *Session, err error) {
	mt, err := m.store.GetMeeting(ctx, key)
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
	if _, err := m.store.GetMeeting(ctx, s.MeetingKey); err != nil {
		if derr := m.store.DeleteSession(ctx, th); derr != nil {
			m.log.Warn("drop session of an ended meeting", "meeting", s.MeetingKey, "err", derr)
		}
		return err
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
	s, err = m.Session(ctx, token)
	if err != nil {
		return "", nil, err
	}
	if s.Used {
		return "", nil, ErrNotFound
	}
	if err := m.store.DeleteSession(ctx, HashToken(token)); err != nil {
		return "", nil, err
	}
	newToken = NewToken()
	s.Used = true
	if err := m.putSession(ctx, newToken, s); err != nil {
		return "", nil, err
	}
	return newToken, s, nil
}

// Attach connects a participant's live connection (a browser's WebSocket or
// a phone call) to its meeting. A second Attach of the same participant
// replaces the first, which receives EventReplaced.
func (m *Manager) Attach(ctx context.Context, key string, id Identity, l Listener) (*Member, error) {
	lv, err := m.room(ctx, key)
	if err != nil {
		return nil, err
	}
	return lv.attach(ctx, id, l)
}

// Tick runs the timers of every meeting on this node: duration, expiry,
// empty grace, no-moderator, reconnect grace, and the TTL refresh. The
// server calls it every second; tests call it with a chosen time.
func (m *Manager) Tick(ctx context.Context, now time.Time) {
	m.mu.Lock()
	rooms := make([]*live, 0, len(m.rooms))
	for _, l := range m.rooms {
		rooms = append(rooms, l)
	}
	m.mu.Unlock()
	for _, l := range rooms {
		l.tick(ctx, now)
	}
}

// Run calls Tick every interval until ctx is done.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Tick(ctx, m.cfg.Now())
		}
	}
}

// Shutdown ends every meeting on this node (graceful drain).
func (m *Manager) Shutdown(ctx context.Context) {
	m.mu.Lock()
	keys := make([]string, 0, len(m.rooms))
	for k := range m.rooms {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	for _, k := range keys {
		if err := m.End(ctx, k, ReasonShutdown); err != nil && !errors.Is(err, ErrNotFound) {
			m.log.Warn("end on shutdown", "meeting", k, "err", err)
		}
	}
}

func (m *Manager) lookup(key string) *live {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rooms[key]
}

// room returns the live room for key, adopting a meeting found in the store
// (created by an earlier run of this node, or before a restart).
func (m *Manager) room(ctx context.Context, key string) (*live, error) {
	if l := m.lookup(key); l != nil {
		return l, nil
	}
	mt, err := m.store.GetMeeting(ctx, key)
	if err != nil {
		return nil, err
	}
	ps, err := m.store.ListParticipants(ctx, key)
	if err != nil {
		return nil, err
	}
	var banned []string
	if b, err := m.store.GetState(ctx, key, stateBanned); err == nil {
		if err := json.Unmarshal(b, &banned); err != nil {
			m.log.Warn("read removals", "meeting", key, "err", err)
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var denied []string
	if b, err := m.store.GetState(ctx, key, stateDenied); err == nil {
		if err := json.Unmarshal(b, &denied); err != nil {
			m.log.Warn("read guest denials", "meeting", key, "err", err)
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.rooms[key]; l != nil {
		return l, nil
	}
	l := newLive(m, mt)
	for _, id := range banned {
		l.banned[id] = true
	}
	for _, id := range denied {
		l.denied[id] = true
	}
	now := m.cfg.Now()
	for _, p := range ps {
		// Connections do not survive a restart: give everyone the grace.
		if p.Connected && p.Kind == Browser {
			p.Connected, p.Disconnected = false, now
		}
		l.parts[p.ID] = &member{p: p}
	}
	m.rooms[key] = l
	return l, nil
}

func (m *Manager) forget(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rooms, key)
}

func (m *Manager) endHooks() []func(string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]func(string){}, m.onEnd...)
}

// NewID returns a random opaque identifier (128 bits, URL-safe).
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// NewToken returns a random secret token (256 bits, URL-safe).
func NewToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken is how tokens are kept in the store: never in clear.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomPIN() string {
	n, err := rand.Int(rand.Reader, big.NewInt(90000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%05d", 10000+n.Int64())
}
