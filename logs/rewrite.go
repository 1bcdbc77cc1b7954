package logs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tmpPrefix starts the names of temporary files; they are not day files,
// and one left by a crash is removed by the next rewrite.
const tmpPrefix = ".tmp-"

// rewrite removes the lines drop selects from a day file, atomically: the
// kept lines go to a new file in the same directory, which is synced and
// renamed over the old one (or, when nothing is kept, the day file is
// removed). A crash leaves either the old file or the new one, never a
// mix, and never loses a line that should stay.
//
// The writer keeps appending meanwhile: the bulk is copied without a lock,
// then the tail written since is copied under the exclusive lock, which
// the writer's shared lock for each append waits for; after the rename
// the writer sees its file replaced and reopens (Writer.Write). Only one
// rewrite runs at a time (Dir.lock).
func rewrite(f dayFile, drop func(e *Entry) bool) (removed int, err error) {
	old, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer old.Close()
	dir := filepath.Dir(f.path)
	tmp, err := os.CreateTemp(dir, tmpPrefix+f.name+"-*")
	if err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", f.name, err)
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return 0, err
	}
	ownLike(tmp, dir)
	out := bufio.NewWriterSize(tmp, 64<<10)
	in := bufio.NewReaderSize(old, 64<<10)
	kept := 0
	copyLines := func(final bool) error {
		for {
			b, err := in.ReadBytes('\n')
			if errors.Is(err, io.EOF) {
				if len(b) == 0 {
					return nil
				}
				if !final {
					// Half a line the writer is still writing: the locked
					// pass reads it whole. Step back over it.
					if _, err := old.Seek(-int64(len(b))-int64(in.Buffered()), io.SeekCurrent); err != nil {
						return err
					}
					in.Reset(old)
					return nil
				}
				// Under the lock a line without its newline is a torn
				// write: kept, or dropped, as a line of its own.
				b = append(b, '\n')
			} else if err != nil {
				return err
			}
			e := f.parse(bytes.TrimSuffix(b, []byte{'\n'}))
			if drop(&e) {
				removed++
				continue
			}
			kept++
			if _, err := out.Write(b); err != nil {
				return err
			}
		}
	}
	if err := copyLines(false); err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", f.name, err)
	}
	if err := lockExclusive(old); err != nil {
		return 0, fmt.Errorf("lock %s: %w", f.name, err)
	}
	defer unlock(old)
	if gone, err := replaced(old); err != nil || gone {
		// Only rewrites replace day files, and they run one at a time.
		return 0, fmt.Errorf("rewrite %s: %w", f.name, errors.Join(err, ErrReplaced))
	}
	if err := copyLines(true); err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", f.name, err)
	}
	if removed == 0 {
		return 0, nil
	}
	if err := out.Flush(); err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", f.name, err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", f.name, err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", f.name, err)
	}
	if kept == 0 {
		err = os.Remove(f.path)
	} else {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", f.name, err)
	}
	if kept > 0 {
		tmp = nil // renamed: nothing to clean up
	}
	return removed, syncDir(dir)
}

// removeTemps deletes temporary files a crashed rewrite left. Called
// under the directory lock, so no rewrite is using one.
func removeTemps(dir string) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}
