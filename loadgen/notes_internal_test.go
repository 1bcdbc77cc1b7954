package loadgen

import (
	"testing"
	"unicode/utf16"
)

// TestMakeOp: the notes editors' operations fit the text they are made
// on, insert their token whole and delete what they say, wherever the
// insert and the deleted range fall.
func TestMakeOp(t *testing.T) {
	text := utf16.Encode([]rune("0123456789"))
	for _, c := range []struct {
		pos, delAt, del int
		want            string
	}{
		{0, 0, 0, "ab0123456789"},
		{10, 0, 0, "0123456789ab"},
		{3, 0, 0, "012ab3456789"},
		{3, 8, 0, "012ab3456789"},
		{8, 3, 0, "01234567ab89"},
		{0, 0, 2, "ab23456789"},
		{2, 5, 3, "01ab23489"},
		{5, 5, 3, "01234ab89"},
		{6, 2, 3, "015678ab9"},
		{7, 7, 3, "0123456ab"},
		{7, 0, 3, "3456789ab"},
	} {
		op := makeOp(len(text), c.pos, "ab", c.delAt, c.del)
		got, err := op.Apply(text)
		if err != nil {
			t.Errorf("%+v: %v (op %v)", c, err, op)
			continue
		}
		if string(utf16.Decode(got)) != c.want {
			t.Errorf("%+v: %q, want %q", c, string(utf16.Decode(got)), c.want)
		}
		if d := opDelta(op); d != 2-c.del {
			t.Errorf("%+v: delta %d, want %d", c, d, 2-c.del)
		}
	}
	if e, seq, ok := parseOpToken(opToken(12, 345) + "xxx"); !ok || e != 12 || seq != 345 {
		t.Errorf("token parsed as %d %d %v", e, seq, ok)
	}
	for _, bad := range []string{"", "e", "e1", "e1.", "e1.2", "x1.2;", "e-1.2;", "e1.x;"} {
		if _, _, ok := parseOpToken(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
