package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aula/room"
	"aula/store"
)

func newDir(t *testing.T) (*store.Dir, string) {
	t.Helper()
	root := t.TempDir()
	d, err := store.NewDir(root)
	if err != nil {
		t.Fatalf("NewDir: %v", err)
	}
	return d, root
}

func TestDirPutOpenListRemove(t *testing.T) {
	d, root := newDir(t)
	a, b := room.KeyOf("course-a"), room.KeyOf("course-b")
	for _, f := range []struct{ mk, name, data string }{
		{a, "slides.pdf", "%PDF-a"},
		{a, "Übung 1 (neu).png", "png"},
		{b, "slides.pdf", "%PDF-b"},
	} {
		got, err := d.Put(f.mk, f.name, []byte(f.data))
		if err != nil || got != f.name {
			t.Fatalf("Put(%s) = %q, %v", f.name, got, err)
		}
	}
	// Replacing keeps one file with the new content.
	if _, err := d.Put(a, "slides.pdf", []byte("%PDF-a2")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ mk, want string }{{a, "%PDF-a2"}, {b, "%PDF-b"}} {
		got, err := d.Open(c.mk, "slides.pdf")
		if err != nil || string(got) != c.want {
			t.Fatalf("Open = %q, %v; want %q", got, err, c.want)
		}
	}
	names, err := d.List(a)
	if err != nil || strings.Join(names, "|") != "slides.pdf|Übung 1 (neu).png" {
		t.Fatalf("List = %q, %v", names, err)
	}
	// Private to the Aula user.
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{filepath.Join(root, "rooms"), 0o700},
		{filepath.Join(root, "rooms", a), 0o700},
		{filepath.Join(root, "rooms", a, "slides.pdf"), 0o600},
	} {
		fi, err := os.Stat(c.path)
		if err != nil || fi.Mode().Perm() != c.mode {
			t.Fatalf("%s: mode %v, %v; want %v", c.path, fi.Mode().Perm(), err, c.mode)
		}
	}
	_, err = d.Open(a, "missing.pdf")
	if !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("Open(missing) = %v, want ErrNotFound", err)
	}
	if err := d.Remove(a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "rooms", a)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("meeting directory survives Remove: %v", err)
	}
	if names, err := d.List(a); err != nil || len(names) != 0 {
		t.Fatalf("List after Remove = %v, %v", names, err)
	}
	if _, err := d.Open(b, "slides.pdf"); err != nil {
		t.Fatalf("the other meeting's file went too: %v", err)
	}
	if err := d.Remove(a); err != nil {
		t.Fatalf("Remove of a meeting without files: %v", err)
	}
}

func TestDirRejectsBadNames(t *testing.T) {
	d, root := newDir(t)
	mk := room.KeyOf("course-a")
	names := []struct{ why, name string }{
		{"empty", ""},
		{"dot", "."},
		{"dot dot", ".."},
		{"hidden", ".htaccess"},
		{"slash", "a/b.pdf"},
		{"traversal", "../../etc/passwd"},
		{"backslash", `a\b.pdf`},
		{"NUL", "a\x00b"},
		{"newline", "a\nb"},
		{"not UTF-8", "a\xffb"},
		{"too long", strings.Repeat("x", store.MaxNameLen+1)},
	}
	for _, c := range names {
		t.Run(c.why, func(t *testing.T) {
			if _, err := d.Put(mk, c.name, []byte("x")); !errors.Is(err, store.ErrInvalidName) || !errors.Is(err, room.ErrInvalid) {
				t.Fatalf("Put(%q) = %v, want ErrInvalidName and room.ErrInvalid", c.name, err)
			}
			if _, err := d.Open(mk, c.name); !errors.Is(err, store.ErrInvalidName) {
				t.Fatalf("Open(%q) = %v, want ErrInvalidName", c.name, err)
			}
		})
	}
	if _, err := d.Put(mk, strings.Repeat("x", store.MaxNameLen), []byte("x")); err != nil {
		t.Fatalf("a name of exactly %d bytes: %v", store.MaxNameLen, err)
	}
	keys := []string{"", "../x", strings.Repeat("g", 40), room.KeyOf("a")[:39], room.KeyOf("a") + "0", "../" + room.KeyOf("a")[3:]}
	for _, k := range keys {
		if _, err := d.Put(k, "f.pdf", []byte("x")); !errors.Is(err, store.ErrInvalidKey) {
			t.Fatalf("Put with key %q = %v, want ErrInvalidKey", k, err)
		}
		if err := d.Remove(k); !errors.Is(err, store.ErrInvalidKey) {
			t.Fatalf("Remove(%q) = %v, want ErrInvalidKey", k, err)
		}
		if _, err := d.List(k); !errors.Is(err, store.ErrInvalidKey) {
			t.Fatalf("List(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	// Nothing was written by any refused call (only the one valid file).
	var files []string
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("files on disk: %v, want only the valid one", files)
	}
}

func TestNewDirErrors(t *testing.T) {
	if _, err := store.NewDir(""); err == nil {
		t.Fatal("NewDir(\"\") succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := store.NewDir(f); err == nil {
		t.Fatal("NewDir on a regular file succeeded")
	}
}

// FuzzDirName: whatever the name, a file either is refused or lands
// exactly in the meeting's directory and reads back.
func FuzzDirName(f *testing.F) {
	for _, s := range []string{"slides.pdf", "..", "../x", "a/b", ".x", "ü", "a\x00", " ", "CON"} {
		f.Add(s)
	}
	root := f.TempDir()
	d, err := store.NewDir(root)
	if err != nil {
		f.Fatal(err)
	}
	mk := room.KeyOf("fuzz")
	f.Fuzz(func(t *testing.T, name string) {
		data := []byte("data:" + name)
		got, err := d.Put(mk, name, data)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidName) {
				t.Fatalf("Put(%q): unexpected error %v", name, err)
			}
			return
		}
		if store.ValidName(name) != nil {
			t.Fatalf("Put accepted %q which ValidName refuses", name)
		}
		p := filepath.Join(root, "rooms", mk, got)
		if filepath.Dir(p) != filepath.Join(root, "rooms", mk) {
			t.Fatalf("name %q escapes the meeting directory: %s", name, p)
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("file %q on disk: %q, %v", name, b, err)
		}
		if err := d.Remove(mk); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDirStageAndCommit: an upload is staged outside every meeting, then
// joins its meeting's folder as a whole; paths never leave the folder; a
// restart clears what a crash left in staging.
func TestDirStageAndCommit(t *testing.T) {
	root := t.TempDir()
	d, err := store.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	mk := room.NewKey()
	staged, err := d.Stage()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(staged, "page-0001.png"), []byte("png"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(mk, staged, "docs/d1"); err != nil {
		t.Fatal(err)
	}
	f, err := d.OpenFile(mk, "docs/d1/page-0001.png")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, rel := range []string{"../x", "docs/../../etc/passwd", "/etc/passwd", "docs//d1", ".hidden", ""} {
		if _, err := d.OpenFile(mk, rel); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("OpenFile(%q) = %v, want ErrInvalid", rel, err)
		}
	}
	if _, err := d.OpenFile(mk, "docs/d1/missing.png"); !errors.Is(err, room.ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
	// Only staged paths can be committed.
	outside := filepath.Join(root, "elsewhere")
	os.Mkdir(outside, 0o700)
	if err := d.Commit(mk, outside, "docs/d2"); !errors.Is(err, room.ErrInvalid) {
		t.Errorf("committing a path outside staging: %v", err)
	}
	// A crash leaves a staged upload behind: the next start clears it.
	left, err := d.Stage()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewDir(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("a staged folder survived a restart: %v", err)
	}
	if err := d.Remove(mk); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "rooms", mk)); !os.IsNotExist(err) {
		t.Fatal("the meeting's documents outlive its removal")
	}
}
