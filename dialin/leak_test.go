package dialin

import (
	"context"
	"testing"
	"time"

	"aula/internal/testenv"
	"aula/room"
)

// gatewayGoroutines lists the goroutines running the gateway's own code.
func gatewayGoroutines() []string {
	return testenv.Goroutines("aula/dialin.(*call)", "aula/dialin.(*rtpConn)", "aula/dialin.(*Gateway)")
}

// After calls end and the gateway closes, none of its goroutines remain
// (call loops, RTP readers, PIN checks, listeners).
func TestNoGoroutineLeft(t *testing.T) {
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("leak", "45454", true)
	a, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	b, err := dial(t, e.gw, dialOpts{From: "anonymous"})
	if err != nil {
		t.Fatal(err)
	}
	a.digits4733("45454#")
	b.digits4733("9#") // a wrong PIN check in flight when the gateway closes
	eventually(t, 5*time.Second, "caller joined", func() bool { return len(e.phones(mt.Key)) == 1 })
	a.hangup()
	eventually(t, 5*time.Second, "first call gone", func() bool { return e.gw.Calls() == 1 })
	if len(gatewayGoroutines()) == 0 {
		t.Fatal("the check sees no gateway goroutine while a call runs")
	}
	if err := e.gw.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if e.gw.Calls() != 0 {
		t.Errorf("Calls() = %d after Close", e.gw.Calls())
	}
	eventually(t, 5*time.Second, "gateway goroutines gone", func() bool { return len(gatewayGoroutines()) == 0 })
	if err := e.mgr.End(context.Background(), mt.Key, room.ReasonAPI); err != nil {
		t.Fatal(err)
	}
}
