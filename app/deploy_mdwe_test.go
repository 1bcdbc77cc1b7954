//go:build linux

package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/tetratelabs/wazero"
)

// wasmOneFunc is the smallest module with code: one function that does
// nothing, which wazero's compiler turns into native code.
var wasmOneFunc = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: () -> ()
	0x03, 0x02, 0x01, 0x00, // functions: one of type 0
	0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code: no locals, end
}

// compileWith compiles wasmOneFunc with the given engine. wazero's
// compiler panics when it cannot map executable memory.
func compileWith(rc wazero.RuntimeConfig) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	defer rt.Close(ctx)
	_, err = rt.CompileModule(ctx, wasmOneFunc)
	return err
}

// Linux's prctl for what systemd's MemoryDenyWriteExecute=yes enforces
// (systemd 253 and later use it where the kernel has it, 6.3 and later;
// older ones a seccomp filter with the same effect).
const (
	prSetMDWE            = 65
	prMDWERefuseExecGain = 1
)

// TestWazeroCompilerNeedsExecutableMemory backs the comment in
// deploy/aula.service that keeps MemoryDenyWriteExecute off: under it
// wazero cannot compile (pdfium then runs on its interpreter, measured
// about 20 times slower per page), while without it it can. A child
// process is put under the restriction, which lasts for its life.
func TestWazeroCompilerNeedsExecutableMemory(t *testing.T) {
	if os.Getenv("AULA_TEST_MDWE_CHILD") == "1" {
		if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetMDWE, prMDWERefuseExecGain, 0, 0, 0, 0); e != 0 {
			fmt.Println("MDWE unsupported:", e)
			return
		}
		fmt.Println("MDWE compiler:", compileWith(wazero.NewRuntimeConfigCompiler()))
		fmt.Println("MDWE auto:", compileWith(wazero.NewRuntimeConfig()))
		return
	}
	if err := compileWith(wazero.NewRuntimeConfigCompiler()); err != nil {
		t.Skipf("wazero's compiler does not run here at all: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWazeroCompilerNeedsExecutableMemory$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "AULA_TEST_MDWE_CHILD=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	s := string(out)
	switch {
	case strings.Contains(s, "MDWE unsupported"):
		t.Skipf("kernel without PR_SET_MDWE: %s", s)
	case strings.Contains(s, "MDWE compiler: <nil>"):
		t.Errorf("wazero compiles under MemoryDenyWriteExecute now: the comment in deploy/aula.service is wrong, set it\n%s", s)
	case !strings.Contains(s, "MDWE compiler: "):
		t.Fatalf("child: %v\n%s", err, s)
	case !strings.Contains(s, "MDWE auto: <nil>"):
		t.Errorf("wazero's default no longer falls back to its interpreter: documents would fail, not slow down\n%s", s)
	}
	t.Logf("child under MemoryDenyWriteExecute:\n%s", s)
}
