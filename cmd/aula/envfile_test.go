package main

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestEnvFileExampleReadsAsShellDoes: `aula check -env-file` (and the
// privacy commands) read deploy/aula.env.example to the same values as a
// POSIX shell sourcing it, the common ground with systemd's
// EnvironmentFile and Compose's env_file.
func TestEnvFileExampleReadsAsShellDoes(t *testing.T) {
	file, err := filepath.Abs(filepath.Join("..", "..", "deploy", "aula.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readEnvFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `set -a; . "$1"; exec env`, "sh", file)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sourcing the example: %v", err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "AULA_") {
			want[k] = v
		}
	}
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("readEnvFile:\n%v\nsh:\n%v", got, want)
	}
}
