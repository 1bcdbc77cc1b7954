package room

import (
	"context"
	"errors"
	"fmt"
)

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

// CommitFiles moves a staged folder into a meeting running on this node,
// atomically against the meeting's end like StoreFile: either the end's
// wipe removes it, or the meeting had ended and nothing moves (ErrEnded;
// the caller removes what it staged).
func (m *Manager) CommitFiles(ctx context.Context, key, staged, rel string) error {
	if m.files == nil {
		return fmt.Errorf("%w: this server keeps no files", ErrInvalid)
	}
	m.sweepMu.RLock()
	defer m.sweepMu.RUnlock()
	l := m.lookup(key)
	if l == nil {
		return ErrEnded
	}
	l.filesMu.Lock()
	defer l.filesMu.Unlock()
	l.mu.Lock()
	ended := l.ended
	l.mu.Unlock()
	if ended {
		return ErrEnded
	}
	return m.files.Commit(key, staged, rel)
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
