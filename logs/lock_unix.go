//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package logs

import (
	"errors"
	"os"
	"syscall"
)

// Day files are shared by processes: the server appends, and `aula logs
// purge` or `aula privacy erase` rewrite them from another process. They
// coordinate with flock(2) on the day file itself: writers hold a shared
// lock for each append, a rewrite holds an exclusive one while it reads
// the tail and renames the new file into place. flock locks belong to an
// open file description, so two descriptors of one process exclude each
// other too: the server's own purge is covered by the same protocol.

func lockShared(f *os.File) error    { return flock(f, syscall.LOCK_SH) }
func lockExclusive(f *os.File) error { return flock(f, syscall.LOCK_EX) }
func unlock(f *os.File) error        { return flock(f, syscall.LOCK_UN) }

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// replaced reports whether f is no longer the file at its path: a
// rewrite renamed a new file over it or removed it, which leaves the old
// inode without a link. One fstat, as a writer checks before each append:
// its lines must never go to an unlinked inode.
func replaced(f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0, nil
}

// ownLike gives a file the owner of the log directory. An operator runs
// `aula privacy …` as root while the server runs as its own user: a day
// file, a rewritten file or holds.json created by root with mode 0600
// would lock the server out of its own log. Without the right to chown
// (not root) the file keeps its creator, which is then the directory's
// owner anyway.
func ownLike(f *os.File, dir string) {
	di, err := os.Stat(dir)
	if err != nil {
		return
	}
	st, ok := di.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Geteuid() {
		return
	}
	_ = f.Chown(int(st.Uid), int(st.Gid))
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
