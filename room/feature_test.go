package room_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"aula/room"
)

// tally is a feature for the framework's tests: participants add words to
// a shared list (an append log, as notes and strokes will be), and a
// moderator sets a title (kept in the snapshot).
type tally struct {
	Title string   `json:"title"`
	Words []string `json:"words"`
}

type addWord struct{ Word string }
type setTitle struct{ Title string }

// wordAdded is the feature's event.
type wordAdded struct {
	Word string
	By   string
}

var errTallyInput = fmt.Errorf("%w: tally", room.ErrInvalid)

func (f *tally) Command(tx *room.Tx, actor *room.Participant, cmd any) (any, error) {
	switch c := cmd.(type) {
	case addWord:
		if c.Word == "" || strings.ContainsRune(c.Word, ' ') {
			return nil, errTallyInput
		}
		f.Words = append(f.Words, c.Word)
		tx.Append([]byte(c.Word))
		tx.Broadcast(wordAdded{Word: c.Word, By: actor.ID})
		return len(f.Words), nil
	case setTitle:
		if actor.Role != room.Moderator {
			return nil, room.ErrForbidden
		}
		f.Title = c.Title
		// A title change goes into the log as a marked entry.
		tx.Append([]byte("#" + c.Title))
		return nil, nil
	}
	return nil, errTallyInput
}

func (f *tally) View(*room.Participant) any {
	if len(f.Words) == 0 && f.Title == "" {
		return nil
	}
	return tally{Title: f.Title, Words: append([]string(nil), f.Words...)}
}

func (f *tally) Snapshot() ([]byte, error) { return json.Marshal(f) }

func (f *tally) Restore(snap []byte, entries [][]byte) error {
	if snap != nil {
		if err := json.Unmarshal(snap, f); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if s := string(e); strings.HasPrefix(s, "#") {
			f.Title = s[1:]
		} else {
			f.Words = append(f.Words, s)
		}
	}
	return nil
}

func tallySpec(compactEvery int) room.FeatureSpec {
	return room.FeatureSpec{Name: "tally", CompactEvery: compactEvery, New: func(*room.Meeting) room.Feature { return &tally{} }}
}

func newFeatureEnv(t *testing.T, compactEvery int) *env {
	t.Helper()
	return newEnvConfig(t, func(c *room.Config) { c.Features = []room.FeatureSpec{tallySpec(compactEvery)} })
}

func TestFeatureCommandsEventsAndViews(t *testing.T) {
	e := newFeatureEnv(t, 1000)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	mona.rec.take()
	vera.rec.take()

	n, err := vera.Command(e.ctx, "tally", addWord{"apple"})
	if err != nil || n != 1 {
		t.Fatalf("Command = %v, %v", n, err)
	}
	for _, p := range []*person{mona, vera} {
		evs := p.rec.take()
		if len(evs) != 1 || evs[0].Type != room.EventFeature || evs[0].Feature != "tally" ||
			evs[0].Payload != (wordAdded{Word: "apple", By: vera.ID()}) {
			t.Fatalf("%s got %+v", p.id.Name, evs)
		}
	}
	// Refused commands change nothing and tell nobody.
	for _, c := range []struct {
		who  *person
		cmd  any
		want error
	}{
		{vera, addWord{"two words"}, room.ErrInvalid},
		{vera, setTitle{"mine"}, room.ErrForbidden},
		{vera, 42, room.ErrInvalid},
	} {
		if _, err := c.who.Command(e.ctx, "tally", c.cmd); !errors.Is(err, c.want) {
			t.Fatalf("%v: %v, want %v", c.cmd, err, c.want)
		}
	}
	if _, err := vera.Command(e.ctx, "nope", addWord{"x"}); !errors.Is(err, room.ErrNoFeature) {
		t.Fatalf("unknown feature: %v", err)
	}
	if evs := mona.rec.take(); len(evs) != 0 {
		t.Fatalf("refused commands reached others: %+v", evs)
	}
	if _, err := mona.Command(e.ctx, "tally", setTitle{"Fruit"}); err != nil {
		t.Fatal(err)
	}
	v, ok := e.snapshot(vera).Features["tally"].(tally)
	if !ok || v.Title != "Fruit" || strings.Join(v.Words, ",") != "apple" {
		t.Fatalf("view %+v", e.snapshot(vera).Features)
	}
}

// TestFeatureLogSurvivesAdoption: a node adopting the meeting rebuilds the
// feature from the store's snapshot and log; compaction keeps the log
// short without losing a word.
func TestFeatureLogSurvivesAdoption(t *testing.T) {
	e := newFeatureEnv(t, 5)
	mt := e.create(room.Settings{})
	vera := e.join(mt, "Vera", room.Moderator)
	var want []string
	for i := range 13 {
		w := fmt.Sprint("w", i)
		want = append(want, w)
		if _, err := vera.Command(e.ctx, "tally", addWord{w}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := vera.Command(e.ctx, "tally", setTitle{"Counted"}); err != nil {
		t.Fatal(err)
	}
	snap, entries, err := e.flushed().ReadLog(e.ctx, mt.Key, "tally")
	if err != nil || snap == nil || len(entries) >= 5 {
		t.Fatalf("log after 14 entries with compaction every 5: snapshot %q, %d entries, %v", snap, len(entries), err)
	}

	e.clock.Add(time.Minute) // this node died: its lease expired
	next := room.NewManager(room.Config{TTL: 24 * time.Hour, Now: e.clock.Now, Logger: quiet, Features: []room.FeatureSpec{tallySpec(5)}}, e.store, e.files)
	_, sess, err := next.NewSession(e.ctx, mt.Key, room.Identity{Name: "Otto", Role: room.Viewer})
	if err != nil {
		t.Fatal(err)
	}
	m, err := next.Attach(e.ctx, mt.Key, sess.Identity, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	snapshot, err := m.Snapshot(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := snapshot.Features["tally"].(tally)
	if v.Title != "Counted" || strings.Join(v.Words, ",") != strings.Join(want, ",") {
		t.Fatalf("adopted feature %+v, want title Counted and words %v", v, want)
	}
}
