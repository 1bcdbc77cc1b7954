package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The helpers every package's tests share: polling with a deadline (never
// sleeping for timing), a log sink for concurrent writers, ports for real
// phones, and one goroutine-leak check.

// Eventually polls cond every 5 ms until it holds, and fails the test
// naming what did not happen once within has passed. onTimeout, if given,
// runs first (to dump state that explains the failure).
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool, onTimeout ...func()) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			for _, f := range onTimeout {
				f()
			}
			t.Fatalf("%s did not happen within %v", what, within)
		}
		<-tick.C
	}
}

// LogBuffer is an io.Writer for a test's server log that many goroutines
// may write at once; String shows what was written so far.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// udpNext hands out candidate ports. They come from 30000–32767, below
// Linux's ephemeral range (32768 and up), so no socket that asks the kernel
// for any port can take one of them between this check and the external
// program's bind; the start depends on the process ID, so the test binaries
// of different packages that go test runs at once use different ports.
var udpNext atomic.Uint32

const udpLow, udpSpan = 30000, 2768

// UDPPort returns a loopback UDP port for an external program (sipp,
// baresip) that must be told its port on the command line. The port is
// bound once to prove it free, then released for the program.
func UDPPort(t testing.TB) int {
	t.Helper()
	start := uint32(os.Getpid()*97) % udpSpan
	for range udpSpan {
		p := udpLow + int((start+udpNext.Add(1))%udpSpan)
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		c.Close()
		return p
	}
	t.Fatal("no free UDP port in 30000-32767")
	return 0
}

// GoroutineCheck records how many goroutines run now; the function it
// returns waits (up to 10 s: Pion and net/http end some of theirs
// asynchronously) until no more than that plus slack run, and otherwise
// fails with every goroutine's stack. Tests that use it must not run in
// parallel with others of their package.
func GoroutineCheck(t testing.TB, slack int) func() {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before+slack {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Fatalf("%d goroutines left (%d before):\n%s", runtime.NumGoroutine(), before, buf[:n])
			}
			runtime.Gosched()
			time.Sleep(10 * time.Millisecond) // polling with a deadline, not timing
		}
	}
}

// Goroutines returns the stacks of the goroutines running code whose
// function names start with one of prefixes (e.g. "aula/dialin.(*call)"),
// for checks that look only at one package's goroutines.
func Goroutines(prefixes ...string) []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, p := range prefixes {
			if strings.Contains(g, p) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
