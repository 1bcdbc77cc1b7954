package room

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
	// NodeID names this node in ownership leases (random when empty).
	NodeID string
	// LeaseTTL is how long a meeting's ownership lease lasts unless
	// renewed (30s); the owner renews it every LeaseTTL/3, and a meeting
	// whose owner stopped renewing is taken over after it expired.
	LeaseTTL time.Duration
	// MaxPendingWrites bounds one meeting's writes waiting for the store
	// (10000); beyond, changes are refused with ErrUnavailable.
	MaxPendingWrites int
	// StoreDownAfter: once a meeting's store writes have failed this long
	// (15s), changes are refused with ErrUnavailable until they succeed.
	StoreDownAfter time.Duration
	// StoreOpTimeout bounds one store write (5s).
	StoreOpTimeout time.Duration
	// Features are the feature state machines every meeting gets.
	Features []FeatureSpec
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
	if c.NodeID == "" {
		c.NodeID = NewID()[:16]
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 30 * time.Second
	}
	if c.MaxPendingWrites <= 0 {
		c.MaxPendingWrites = 10000
	}
	if c.StoreDownAfter <= 0 {
		c.StoreDownAfter = 15 * time.Second
	}
	if c.StoreOpTimeout <= 0 {
		c.StoreOpTimeout = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Manager runs the meetings this node owns: their lifecycle, roster, chat
// and features, in memory, with the store written behind. Other nodes'
// meetings it only reads from the store (the API may ask any node).
type Manager struct {
	cfg      Config
	store    Store
	files    Files
	log      *slog.Logger
	counters persistCounters

	// sweepMu: StoreFile holds it shared, SweepFiles exclusively, so a
	// sweep never removes a folder a create is filling.
	sweepMu sync.RWMutex

	mu    sync.Mutex
	rooms map[string]*live // by meeting key
	byID  map[string]*live // by KeyOf(meetingID)
	// onEnd hooks let the SFU and the SIP gateway close what they hold
	// when a meeting stops running here (ended, or moved to another node).
	onEnd []func(meetingKey string)
	// onEnded hooks see the ended meeting (its last state) and the reason.
	onEnded []func(mt Meeting, reason string)
	// onStart hooks run when a meeting starts running here (created or
	// adopted): the SFU opens its room.
	onStart []func(meetingKey string)
}

// NewManager returns a Manager over store and files (files may be nil).
func NewManager(cfg Config, store Store, files Files) *Manager {
	cfg.defaults()
	return &Manager{cfg: cfg, store: store, files: files, log: cfg.Logger,
		rooms: map[string]*live{}, byID: map[string]*live{}}
}

// NodeID is the name of this node in ownership leases.
func (m *Manager) NodeID() string { return m.cfg.NodeID }

// OnStart registers a hook run (outside any lock) when a meeting starts
// running on this node, created here or adopted, before anyone attaches.
func (m *Manager) OnStart(f func(meetingKey string)) {
	m.mu.Lock()
	m.onStart = append(m.onStart, f)
	m.mu.Unlock()
}

// OnEnd registers a hook run (outside any lock) when a meeting stops
// running on this node: after it ended and before its data is wiped, or
// when another node took it over.
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

// PersistStats returns the store-write counters of this node's meetings.
func (m *Manager) PersistStats() PersistStats {
	s := PersistStats{Writes: m.counters.writes.Load(), Errors: m.counters.errors.Load(), Coalesced: m.counters.coalesced.Load()}
	for _, l := range m.liveRooms() {
		s.Pending += l.persist.pending()
		if l.persist.down() {
			s.Unavailable++
		}
	}
	return s
}

// Create creates a meeting, or returns the running one with the same
// meetingID and existed=true (BBB's idempotent create). A clash of PIN with
// another meeting is ErrPINTaken when the PIN was requested; a random PIN
// is retried. The new meeting runs on this node, which holds its lease.
func (m *Manager) Create(ctx context.Context, s Settings) (mt *Meeting, existed bool, err error) {
	return m.create(ctx, s, "")
}

// CreateChild creates a meeting that belongs to a meeting running on this
// node (a breakout room): it runs here too and ends with its parent.
func (m *Manager) CreateChild(ctx context.Context, parentKey string, s Settings) (*Meeting, error) {
	p := m.lookup(parentKey)
	if p == nil {
		return nil, ErrNotFound
	}
	if _, err := p.meeting(); err != nil {
		return nil, ErrNotFound
	}
	mt, existed, err := m.create(ctx, s, parentKey)
	if err != nil {
		return nil, err
	}
	if existed {
		return nil, fmt.Errorf("%w: meetingID of a running meeting", ErrExists)
	}
	// The parent may have ended while the child was made: end it too.
	if _, err := p.meeting(); err != nil {
		if l := m.lookup(mt.Key); l != nil {
			if err := l.end(ctx, ReasonParent); err != nil {
				m.log.Warn("end child of an ended parent", "meeting", mt.Key, "err", err)
			}
		}
		return nil, ErrNotFound
	}
	return mt, nil
}

func (m *Manager) create(ctx context.Context, s Settings, parent string) (mt *Meeting, existed bool, err error) {
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
	// A meeting this node runs is a duplicate even when the store lost its
	// record (a Redis restarted empty): replacing it would leave its
	// participants in a room nobody can end.
	if old, err := m.Meeting(ctx, s.MeetingID); err == nil {
		return old, true, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	mt = &Meeting{Settings: s, Key: NewKey(), Parent: parent, CreateTime: m.cfg.Now()}
	// The lease first: nobody else knows the new key, so this cannot
	// fail for another owner, and no node scanning for orphans can adopt
	// the meeting between its record and its lease.
	if _, err := m.store.AcquireLease(ctx, mt.Key, m.cfg.NodeID, m.cfg.LeaseTTL); err != nil {
		return nil, false, err
	}
	random := s.PIN == ""
	for try := 0; ; try++ {
		if random {
			mt.PIN = randomPIN()
		}
		err = m.store.CreateMeeting(ctx, mt, m.cfg.TTL)
		if err == nil {
			break
		}
		if random && errors.Is(err, ErrPINTaken) && try < 50 {
			continue
		}
		m.releaseLease(ctx, mt.Key)
		if errors.Is(err, ErrExists) {
			// Lost a race with a concurrent create of the same meetingID.
			old, gerr := m.Meeting(ctx, s.MeetingID)
			if gerr != nil {
				return nil, false, gerr
			}
			return old, true, nil
		}
		return nil, false, err
	}
	l := newLive(m, mt)
	m.mu.Lock()
	m.rooms[mt.Key] = l
	m.byID[KeyOf(mt.MeetingID)] = l
	starts := append([]func(string){}, m.onStart...)
	m.mu.Unlock()
	for _, f := range starts {
		f(mt.Key)
	}
	m.log.Info("meeting created", "meeting", mt.Key, "parent", parent, "meeting_id", mt.MeetingID)
	cp := *mt
	return &cp, false, nil
}

// Meeting returns the running meeting with this meetingID.
func (m *Manager) Meeting(ctx context.Context, meetingID string) (*Meeting, error) {
	idKey := KeyOf(meetingID)
	m.mu.Lock()
	l := m.byID[idKey]
	m.mu.Unlock()
	if l != nil {
		if mt, err := l.meeting(); err == nil {
			return mt, nil
		}
	}
	key, err := m.store.MeetingKeyByID(ctx, idKey)
	if err != nil {
		return nil, err
	}
	return m.store.GetMeeting(ctx, key)
}

// MeetingByKey returns a meeting by its key: from memory when it runs on
// this node (the authority), else from the store.
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
	return m.MeetingByKey(ctx, key)
}

// Meetings lists every meeting in the store.
func (m *Manager) Meetings(ctx context.Context) ([]*Meeting, error) {
	return m.store.ListMeetings(ctx)
}

// Participants lists a meeting's participants (in the room or the lobby):
// from memory on the owner, else from the store.
func (m *Manager) Participants(ctx context.Context, key string) ([]*Participant, error) {
	if l := m.lookup(key); l != nil {
		return l.participants(), nil
	}
	return m.store.ListParticipants(ctx, key)
}

// End ends a meeting: every participant is told, the end hooks run, and
// every key and file of the meeting is deleted. A meeting another node
// owns is ended by that node: End asks it through the store and returns.
func (m *Manager) End(ctx context.Context, key, reason string) error {
	l, err := m.room(ctx, key)
	if errors.Is(err, ErrElsewhere) {
		return m.store.RequestEnd(ctx, key, reason, m.cfg.TTL)
	}
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

// Attach connects a participant's live connection (a browser's WebSocket or
// a phone call) to its meeting. A second Attach of the same participant
// replaces the first, which receives EventReplaced.
func (m *Manager) Attach(ctx context.Context, key string, id Identity, l Listener) (*Member, error) {
	lv, err := m.room(ctx, key)
	if err != nil {
		return nil, err
	}
	return lv.attach(id, l)
}

// Tick runs the timers of every meeting on this node: duration, expiry,
// empty grace, no-moderator, reconnect grace, features' timers. It does no
// store I/O (the heartbeat does). The server calls it every second; tests
// call it with a chosen time.
func (m *Manager) Tick(ctx context.Context, now time.Time) {
	for _, l := range m.liveRooms() {
		l.tick(ctx, now)
	}
}

// Run calls Tick every interval, the heartbeat every LeaseTTL/3, the scan
// for orphaned meetings every LeaseTTL and the file sweep every
// SweepInterval (and once at the start), until ctx is done.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	hb := time.NewTicker(m.cfg.LeaseTTL / 3)
	defer hb.Stop()
	scan := time.NewTicker(m.cfg.LeaseTTL)
	defer scan.Stop()
	sweep := time.NewTicker(m.cfg.SweepInterval)
	defer sweep.Stop()
	m.sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Tick(ctx, m.cfg.Now())
		case <-hb.C:
			m.Heartbeat(ctx)
		case <-scan.C:
			m.Scan(ctx)
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
	for _, l := range m.liveRooms() {
		if l.mt.Parent != "" {
			continue // ends with its parent
		}
		if err := l.end(ctx, ReasonShutdown); err != nil {
			m.log.Warn("end on shutdown", "meeting", l.mt.Key, "err", err)
		}
	}
	for _, l := range m.liveRooms() {
		if err := l.end(ctx, ReasonShutdown); err != nil {
			m.log.Warn("end on shutdown", "meeting", l.mt.Key, "err", err)
		}
	}
}

// Flush waits until every change made so far in the meetings running here
// is written to the store (tests, drain), or ctx ends.
func (m *Manager) Flush(ctx context.Context) error {
	for _, l := range m.liveRooms() {
		if err := l.persist.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) lookup(key string) *live {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rooms[key]
}

func (m *Manager) liveRooms() []*live {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*live, 0, len(m.rooms))
	for _, l := range m.rooms {
		out = append(out, l)
	}
	return out
}

// children returns the running child meetings of key.
func (m *Manager) children(key string) []*live {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*live
	for _, l := range m.rooms {
		if l.mt.Parent == key {
			out = append(out, l)
		}
	}
	return out
}

func (m *Manager) forget(l *live) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[l.mt.Key] == l {
		delete(m.rooms, l.mt.Key)
	}
	if id := KeyOf(l.mt.MeetingID); m.byID[id] == l {
		delete(m.byID, id)
	}
}

func (m *Manager) endHooks() ([]func(string), []func(Meeting, string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]func(string){}, m.onEnd...), append([]func(Meeting, string){}, m.onEnded...)
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
