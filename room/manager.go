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
	// SweepInterval is how often Run deletes the file folders of meetings
	// that no longer exist (10m); it also sweeps once when Run starts.
	SweepInterval time.Duration
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
	if c.SweepInterval <= 0 {
		c.SweepInterval = 10 * time.Minute
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

	// sweepMu: StoreFile holds it shared, SweepFiles exclusively, so a
	// sweep never removes a folder a create is filling.
	sweepMu sync.RWMutex

	mu    sync.Mutex
	rooms map[string]*live // by meeting key
	// onEnd hooks let the SFU and the SIP gateway close what they hold.
	onEnd []func(meetingKey string)
	// onEnded hooks see the ended meeting (its last state) and the reason.
	onEnded []func(mt Meeting, reason string)
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

// OnEnded registers a hook run (outside any lock) after a meeting ended,
// with the meeting's last state and the end reason, before its data is
// wiped (the web layer calls the platform's end callback from it).
func (m *Manager) OnEnded(f func(mt Meeting, reason string)) {
	m.mu.Lock()
	m.onEnded = append(m.onEnded, f)
	m.mu.Unlock()
}

// Ready reports whether the manager can serve: its store answers.
func (m *Manager) Ready(ctx context.Context) error {
	if err := m.store.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
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
	// A meeting this node runs is a duplicate even when the store lost its
	// record (a Redis restarted empty): replacing it would leave its
	// participants in a room nobody can end.
	if l := m.lookup(key); l != nil {
		if mt, err := l.meeting(); err == nil {
			return mt, true, nil
		}
	}
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
	return m.MeetingByKey(ctx, KeyOf(meetingID))
}

// MeetingByKey returns a meeting by its internal key: from memory when it
// runs on this node (the authority), else from the store.
func (m *Manager) MeetingByKey(ctx context.Context, key string) (*Meeting, error) {
	if l := m.lookup(key); l != nil {
		if mt, err := l.meeting(); err == nil {
			return mt, nil
		}
	}
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

// StoreFile keeps a file of a meeting running on this node. It is atomic
// against the meeting's end: a file stored while the meeting ends is
// either removed by the end's wipe or refused with ErrEnded, never left
// behind.
func (m *Manager) StoreFile(ctx context.Context, key, name string, data []byte) (string, error) {
	if m.files == nil {
		return "", fmt.Errorf("%w: this server keeps no files", ErrInvalid)
	}
	m.sweepMu.RLock()
	defer m.sweepMu.RUnlock()
	l := m.lookup(key)
	if l == nil {
		return "", ErrEnded
	}
	l.filesMu.Lock()
	defer l.filesMu.Unlock()
	l.mu.Lock()
	ended := l.ended
	l.mu.Unlock()
	if ended {
		return "", ErrEnded
	}
	return m.files.Put(key, name, data)
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
	if token == "" {
		return "", nil, ErrNotFound
	}
	// Read and delete in one atomic step, so that concurrent requests for
	// one link cannot each get a session.
	s, err = m.store.TakeJoinSession(ctx, HashToken(token))
	if err != nil {
		return "", nil, err
	}
	if s.Used {
		return "", nil, ErrNotFound
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

// Run calls Tick every interval until ctx is done, and sweeps the files
// of meetings that no longer exist at the start and every SweepInterval.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	sweep := time.NewTicker(m.cfg.SweepInterval)
	defer sweep.Stop()
	m.sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Tick(ctx, m.cfg.Now())
		case <-sweep.C:
			m.sweep(ctx)
		}
	}
}

func (m *Manager) sweep(ctx context.Context) {
	if _, err := m.SweepFiles(ctx); err != nil && ctx.Err() == nil {
		m.log.Warn("sweep files", "err", err)
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

func (m *Manager) endHooks() ([]func(string), []func(Meeting, string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]func(string){}, m.onEnd...), append([]func(Meeting, string){}, m.onEnded...)
}

// SweepFiles deletes the file folders of meetings that neither run on this
// node nor exist in the store: what a crash (SIGKILL, power loss) left
// behind once the store forgot the meeting, or what a create racing an
// end wrote late. It returns how many folders it removed.
func (m *Manager) SweepFiles(ctx context.Context) (int, error) {
	if m.files == nil {
		return 0, nil
	}
	keys, err := m.files.Meetings()
	if err != nil {
		return 0, err
	}
	removed := 0
	var errs []error
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		gone, err := m.sweepOne(ctx, key)
		if err != nil {
			errs = append(errs, err)
		}
		if gone {
			removed++
		}
	}
	if removed > 0 {
		m.log.Info("removed files of meetings that no longer exist", "folders", removed)
	}
	return removed, errors.Join(errs...)
}

func (m *Manager) sweepOne(ctx context.Context, key string) (bool, error) {
	m.sweepMu.Lock()
	defer m.sweepMu.Unlock()
	if m.lookup(key) != nil {
		return false, nil
	}
	if _, err := m.store.GetMeeting(ctx, key); err == nil {
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err // the store is down: keep, try again later
	}
	if err := m.files.Remove(key); err != nil {
		return false, err
	}
	m.log.Info("removed files of a meeting that no longer exists", "meeting", key)
	return true, nil
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
