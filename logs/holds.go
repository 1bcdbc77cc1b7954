package logs

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// HoldsFile is the holds' file in the log directory (0600): it names data
// subjects, so it stays where their entries are.
const HoldsFile = "holds.json"

// Hold keeps the entries its criteria select from purge and erase until
// it is released (a legal hold, a pending complaint).
type Hold struct {
	ID       string    `json:"id"`
	Criteria Criteria  `json:"criteria"`
	Reason   string    `json:"reason"`
	By       string    `json:"by"`
	Created  time.Time `json:"created"`
}

type holdsDoc struct {
	Holds []Hold `json:"holds"`
}

// readHolds reads the holds; no file means none.
func readHolds(dir string) ([]Hold, error) {
	b, err := os.ReadFile(filepath.Join(dir, HoldsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("holds: %w", err)
	}
	var doc holdsDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		// Refusing to purge beats purging what a hold protects.
		return nil, fmt.Errorf("holds: %s is damaged: %w", HoldsFile, err)
	}
	return doc.Holds, nil
}

// writeHolds replaces the holds' file atomically.
func writeHolds(dir string, hs []Hold) error {
	b, err := json.MarshalIndent(holdsDoc{Holds: hs}, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(dir, HoldsFile, append(b, '\n'))
}

// writeAtomic writes a file of dir through a synced temporary file and a
// rename, mode 0600, owned like dir.
func writeAtomic(dir, name string, b []byte) error {
	tmp, err := os.CreateTemp(dir, tmpPrefix+name+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	ownLike(tmp, dir)
	if _, err := tmp.Write(b); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	tmp = nil
	return syncDir(dir)
}

func newHoldID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "h-" + hex.EncodeToString(b[:])
}

func findHold(hs []Hold, id string) int {
	id = strings.TrimSpace(id)
	for i, h := range hs {
		if h.ID == id {
			return i
		}
	}
	return -1
}
