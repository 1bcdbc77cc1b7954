//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package logs

import "os"

// Without flock(2) the rewrite cannot exclude a writer in another
// process: the server and the commands are safe together only on the
// systems above. Inside one process the Writer's mutex still orders
// appends.

func lockShared(*os.File) error    { return nil }
func lockExclusive(*os.File) error { return nil }
func unlock(*os.File) error        { return nil }

// replaced cannot tell a replaced file here; the rewrite's rename fails
// on systems that keep open files from being replaced.
func replaced(*os.File) (bool, error) { return false, nil }

func ownLike(*os.File, string) {}

func syncDir(string) error { return nil }
