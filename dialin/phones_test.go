package dialin

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"aula/internal/testenv"
	"aula/room"
)

// freePort returns a UDP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sipp (package sip-tester) dials in with its own RFC 2833 captures for
// the PIN, sends G.711a speech, and gets a BYE when the meeting ends.
func TestSippDialIn(t *testing.T) {
	t.Parallel()
	sipp := testenv.Tool(t, "sipp")
	for _, f := range []string{"dtmf_2833_1.pcap", "dtmf_2833_pound.pcap", "g711a.pcap"} {
		if _, err := os.Stat("/usr/share/sip-tester/" + f); err != nil {
			t.Fatalf("sipp's capture %s is missing (package sip-tester): %v", f, err)
		}
	}
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("sipp", "12345", true)
	ear := newRoomEar(t, e.hub, mt.Key, "trainer-media")
	scenario, _ := filepath.Abs("testdata/sipp_pin.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-m", "1", "-i", "127.0.0.1",
		"-p", strconv.Itoa(freePort(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)),
		"-timeout", "50s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(t.TempDir(), "err.log"),
		e.gw.Addr().String())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	eventually(t, 20*time.Second, "sipp's caller in the room", func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && ps[0].InRoom
	})
	if got := e.phones(mt.Key)[0].Name; got != "Phone ···789" {
		t.Errorf("name = %q", got)
	}
	caller := e.phones(mt.Key)[0].ID
	eventually(t, 10*time.Second, "sipp's speech reaches the room as Opus", func() bool {
		_, n := ear.last(caller)
		return n >= 25
	})
	if err := e.mgr.End(context.Background(), mt.Key, room.ReasonModerator); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sipp failed: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sipp did not finish\n%s", out.String())
	}
}
