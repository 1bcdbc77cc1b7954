//go:build !unix

package render

import "os/exec"

// ownProcessGroup: elsewhere only the launcher itself is killed.
func ownProcessGroup(cmd *exec.Cmd) {}
