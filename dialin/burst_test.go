package dialin

import (
	"context"
	"sync"
	"testing"
	"time"

	"aula/room"
)

// A burst of roster changes (a class of 300 arriving or leaving at once)
// must not end a call: a phone has no roster, so those events never fill
// its queue.
func TestRosterBurstKeepsTheCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("burst", "31415", true)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("31415#")
	eventually(t, 5*time.Second, "caller in the room", func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && ps[0].InRoom
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 75; i++ {
				m, err := e.mgr.Attach(ctx, mt.Key, room.Identity{ParticipantID: room.NewID(), Name: "Student", Role: room.Viewer, Kind: room.Browser}, room.ListenerFunc(func(room.Event) {}))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := m.Chat(ctx, "", "hello"); err != nil {
					t.Error(err)
				}
				m.Leave(ctx)
			}
		}()
	}
	wg.Wait()
	select {
	case <-p.Byes():
		t.Fatal("the gateway hung up the caller during a burst of roster changes")
	default:
	}
	if e.gw.Calls() != 1 {
		t.Fatalf("Calls() = %d after the burst, want 1", e.gw.Calls())
	}
	if ps := e.phones(mt.Key); len(ps) != 1 || !ps[0].InRoom {
		t.Fatalf("caller no longer in the room after the burst: %+v", ps)
	}
}
