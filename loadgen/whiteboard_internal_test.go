package loadgen

import (
	"encoding/json"
	"testing"
)

func TestShapeIDRoundTrip(t *testing.T) {
	for _, c := range [][2]int{{0, 0}, {3, 1042}, {17, 999999}} {
		d, n, ok := parseShapeID(shapeID(c[0], c[1]))
		if !ok || d != c[0] || n != c[1] {
			t.Errorf("%v: parsed %d %d %v", c, d, n, ok)
		}
	}
	for _, bad := range []string{"", "w", "ws", "w1", "x1s2", "w-1s2", "w1s", "w1s2x"} {
		if _, _, ok := parseShapeID(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestStrokePointsOnThePage(t *testing.T) {
	pts := strokePoints(4, 77, 30)
	if len(pts) != 30 {
		t.Fatalf("%d points", len(pts))
	}
	for _, raw := range pts {
		var p [2]float64
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		if p[0] < 0 || p[0] > 1 || p[1] < 0 || p[1] > 1 {
			t.Errorf("point %v off the page", p)
		}
	}
}

func TestMsgType(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"wb.drawing","data":{}}`: "wb.drawing",
		`{"data":{},"type":"wb.added"}`:   "wb.added",
		`{"type":"a\"b","data":{}}`:       `a"b`,
		`{ "type" : "ack", "ref": "r1" }`: "ack",
		`not json`:                        "",
	} {
		if got := msgType([]byte(in)); got != want {
			t.Errorf("msgType(%s) = %q, want %q", in, got, want)
		}
	}
}
