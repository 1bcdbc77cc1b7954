package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"aula/room"
)

// Dir keeps meetings' uploaded files on disk, one directory per meeting:
// root/rooms/<meeting key>/<name>. Every access goes through os.Root, so
// even a name that slipped past validation, or a symlink planted in the
// tree, cannot reach outside root/rooms. Directories are 0700 and files
// 0600: only the Aula user reads participants' uploads.
type Dir struct {
	rooms   string // absolute path of root/rooms
	staging string // absolute path of root/staging
}

var _ room.Files = (*Dir)(nil)

// MaxNameLen is the longest file name Dir accepts, in bytes.
const MaxNameLen = 128

// NewDir prepares root/rooms (creating it 0700) and returns the store.
func NewDir(root string) (*Dir, error) {
	if root == "" {
		return nil, fmt.Errorf("store: data directory is empty")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("store: data directory %q: %w", root, err)
	}
	rooms := filepath.Join(abs, "rooms")
	if err := os.MkdirAll(rooms, 0o700); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	// Uploads and conversions in progress live in staging until they join
	// their meeting; whatever a crash left there belongs to nobody.
	staging := filepath.Join(abs, "staging")
	if err := os.RemoveAll(staging); err != nil {
		return nil, fmt.Errorf("store: clear staging: %w", err)
	}
	if err := os.MkdirAll(staging, 0o700); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	// Probe once that it is a writable directory, so a wrong setting stops
	// start-up instead of failing the first upload.
	f, err := os.CreateTemp(rooms, ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("store: data directory not writable: %w", err)
	}
	f.Close()
	os.Remove(f.Name())
	return &Dir{rooms: rooms, staging: staging}, nil
}

// Root is the directory holding one sub-directory per meeting.
func (d *Dir) Root() string { return d.rooms }

// ValidName reports why name cannot be a stored file name (nil if it can).
func ValidName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %w: %s", ErrInvalidName, room.ErrInvalid, why)
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > MaxNameLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxNameLen))
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case strings.HasPrefix(name, "."):
		// Covers "." and ".." too; hidden files are never uploads.
		return bad("leading dot")
	case strings.ContainsAny(name, `/\`):
		return bad("path separator")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return bad("unprintable character")
		}
	}
	return nil
}

func validKey(mk string) error {
	if len(mk) != 40 {
		return fmt.Errorf("%w: %w: length %d", ErrInvalidKey, room.ErrInvalid, len(mk))
	}
	for i := 0; i < len(mk); i++ {
		c := mk[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return fmt.Errorf("%w: %w: not hex", ErrInvalidKey, room.ErrInvalid)
		}
	}
	return nil
}

func (d *Dir) open() (*os.Root, error) {
	r, err := os.OpenRoot(d.rooms)
	if err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	return r, nil
}

// Put stores data as name in the meeting's directory, replacing a file of
// that name, and returns the name to Open it by. The file appears complete
// or not at all (written to a temporary name, then renamed).
func (d *Dir) Put(mk, name string, data []byte) (string, error) {
	if err := validKey(mk); err != nil {
		return "", err
	}
	if err := ValidName(name); err != nil {
		return "", err
	}
	r, err := d.open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	if err := r.Mkdir(mk, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("store: meeting directory: %w", err)
	}
	// The temporary name starts with a dot, which ValidName refuses, so it
	// can never clash with or be listed as an upload.
	tmp := filepath.Join(mk, "."+room.NewID()+".tmp")
	if err := r.WriteFile(tmp, data, 0o600); err != nil {
		r.Remove(tmp)
		return "", fmt.Errorf("store: write file: %w", err)
	}
	if err := r.Rename(tmp, filepath.Join(mk, name)); err != nil {
		r.Remove(tmp)
		return "", fmt.Errorf("store: write file: %w", err)
	}
	return name, nil
}

// Open returns the content of a stored file; room.ErrNotFound if missing.
func (d *Dir) Open(mk, name string) ([]byte, error) {
	if err := validKey(mk); err != nil {
		return nil, err
	}
	if err := ValidName(name); err != nil {
		return nil, err
	}
	r, err := d.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := r.ReadFile(filepath.Join(mk, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: file", room.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read file: %w", err)
	}
	return b, nil
}

// List returns the names of the meeting's files, sorted; none is not an error.
func (d *Dir) List(mk string) ([]string, error) {
	if err := validKey(mk); err != nil {
		return nil, err
	}
	r, err := d.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ents, err := fs.ReadDir(r.FS(), mk)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: list files: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && ValidName(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Stage creates a new empty folder in root/staging and returns its path.
func (d *Dir) Stage() (string, error) {
	p := filepath.Join(d.staging, room.NewID())
	if err := os.Mkdir(p, 0o700); err != nil {
		return "", fmt.Errorf("store: stage: %w", err)
	}
	return p, nil
}

// validRel checks a relative path inside a meeting's folder: names that
// ValidName accepts, joined by "/".
func validRel(rel string) error {
	if rel == "" {
		return fmt.Errorf("%w: %w: empty path", ErrInvalidName, room.ErrInvalid)
	}
	for _, part := range strings.Split(rel, "/") {
		if err := ValidName(part); err != nil {
			return err
		}
	}
	return nil
}

// Commit moves a staged folder or file (a path Stage returned, or inside
// one) into the meeting's folder as rel, creating the folders on the way.
// Both lie under the same root, so the move is one rename.
func (d *Dir) Commit(mk, staged, rel string) error {
	if err := validKey(mk); err != nil {
		return err
	}
	if err := validRel(rel); err != nil {
		return err
	}
	abs, err := filepath.Abs(staged)
	if err != nil || !strings.HasPrefix(abs, d.staging+string(filepath.Separator)) {
		return fmt.Errorf("%w: %w: not a staged path", ErrInvalidName, room.ErrInvalid)
	}
	target := filepath.Join(d.rooms, mk, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if err := os.Rename(abs, target); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// OpenFile opens a file of the meeting by relative path through os.Root:
// no name, link or ".." reaches outside the meeting's folder.
func (d *Dir) OpenFile(mk, rel string) (*os.File, error) {
	if err := validKey(mk); err != nil {
		return nil, err
	}
	if err := validRel(rel); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(filepath.Join(d.rooms, mk))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: file", room.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	defer r.Close()
	f, err := r.Open(filepath.FromSlash(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: file", room.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	return f, nil
}

// Path returns the absolute path of rel inside the meeting's folder. The
// files there are the server's own (named and written by it), so a path
// is safe to hand to a reader; the name is checked all the same.
func (d *Dir) Path(mk, rel string) (string, error) {
	if err := validKey(mk); err != nil {
		return "", err
	}
	if err := validRel(rel); err != nil {
		return "", err
	}
	return filepath.Join(d.rooms, mk, filepath.FromSlash(rel)), nil
}

// Meetings lists the keys of the meetings that have a directory, sorted.
func (d *Dir) Meetings() ([]string, error) {
	ents, err := os.ReadDir(d.rooms)
	if err != nil {
		return nil, fmt.Errorf("store: list meetings' files: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && validKey(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Remove deletes the meeting's directory and everything in it. Removing a
// meeting without files is not an error.
func (d *Dir) Remove(mk string) error {
	if err := validKey(mk); err != nil {
		return err
	}
	r, err := d.open()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.RemoveAll(mk); err != nil {
		return fmt.Errorf("store: remove files: %w", err)
	}
	return nil
}
