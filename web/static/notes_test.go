package static

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"unicode/utf16"

	"aula/room"
)

// TestNotesOTModule runs testdata/notes_ot_test.mjs under node: the
// shared notes' operations and the client's state machine (js/notes-ot.js),
// with random interleavings of 2 to 5 editors converging, and the same
// results as the server's own transform and compose on cases made here
// with room.Transform and room.Compose.
func TestNotesOTModule(t *testing.T) {
	cases, err := json.Marshal(goOTCases(t, 2000))
	if err != nil {
		t.Fatal(err)
	}
	nodeTest(t, "notes_ot_test.mjs", map[string]string{
		"js/notes-ot.js":             "notes-ot.js",
		"testdata/notes_ot_test.mjs": "notes_ot_test.mjs",
	}, map[string][]byte{"go_cases.json": cases})
}

type otCase struct {
	Text string      `json:"text"`
	A    room.TextOp `json:"a"`
	B    room.TextOp `json:"b"`
	A2   room.TextOp `json:"a2"`
	B2   room.TextOp `json:"b2"`
	C    room.TextOp `json:"c,omitempty"`
	AC   room.TextOp `json:"ac"`
}

var otAlphabet = []rune("ab \näö😀#")

func randomRunes(r *rand.Rand, max int) []rune {
	out := make([]rune, r.IntN(max+1))
	for i := range out {
		out[i] = otAlphabet[r.IntN(len(otAlphabet))]
	}
	return out
}

func u16(rs []rune) int { return len(utf16.Encode(rs)) }

// randomTextOp makes a valid operation on text (whole characters only).
func randomTextOp(r *rand.Rand, text []rune) room.TextOp {
	var op room.TextOp
	for i := 0; i < len(text); {
		n := 1 + r.IntN(min(4, len(text)-i))
		units := u16(text[i : i+n])
		switch k := r.IntN(10); {
		case k < 2:
			op = append(op, room.OpComp{S: string(randomRunes(r, 3)) + "x"}, room.OpComp{N: units})
		case k < 5:
			op = append(op, room.OpComp{N: -units})
		default:
			op = append(op, room.OpComp{N: units})
		}
		i += n
	}
	if r.IntN(3) == 0 {
		op = append(op, room.OpComp{S: "y" + string(randomRunes(r, 3))})
	}
	return op
}

// goOTCases are random pairs of concurrent operations with the server's
// transform of them, and compositions.
func goOTCases(t *testing.T, n int) []otCase {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var out []otCase
	for len(out) < n {
		text := randomRunes(r, 10)
		a, b := randomTextOp(r, text), randomTextOp(r, text)
		// The wire form is normalized: merge what the server would.
		a, b = mergeOp(t, a), mergeOp(t, b)
		a2, b2, err := room.Transform(a, b)
		if err != nil {
			t.Fatalf("transform %v %v: %v", a, b, err)
		}
		c := otCase{Text: string(text), A: a, B: b, A2: a2, B2: b2}
		units, err := a.Apply(utf16.Encode(text))
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if mid := []rune(string(utf16.Decode(units))); len(mid) > 0 {
			c.C = mergeOp(t, randomTextOp(r, mid))
			if c.AC, err = room.Compose(a, c.C); err != nil {
				t.Fatalf("compose: %v", err)
			}
		}
		out = append(out, c)
	}
	return out
}

// mergeOp merges neighbouring components of a kind, as the client does.
func mergeOp(t *testing.T, op room.TextOp) room.TextOp {
	t.Helper()
	var merged room.TextOp
	for _, c := range op {
		if k := len(merged); k > 0 {
			last := &merged[k-1]
			if c.S != "" && last.S != "" {
				last.S += c.S
				continue
			}
			if c.S == "" && last.S == "" && (c.N > 0) == (last.N > 0) {
				last.N += c.N
				continue
			}
		}
		merged = append(merged, c)
	}
	if merged == nil {
		merged = room.TextOp{}
	}
	return merged
}
