package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// prepared writes a log directory of two conferences: Vera joins one from
// a browser, a caller dials into the other; Tom is in both.
func prepared(t *testing.T) *Dir {
	t.Helper()
	d := testDir(t)
	dir := d.Path
	at := ago(3 * day)
	put(t, dir, at, "meeting created", "meeting", "k1", "meeting_id", "bio-101", "parent", "")
	put(t, dir, at.Add(time.Minute), "participant connected", "meeting", "k1", "participant", "p1",
		"user_id", "moodle-42", "name", "Vera Schulz", "ip", "198.51.100.7", "user_agent", "Firefox/128")
	put(t, dir, at.Add(2*time.Minute), "peer failed", "component", "sfu", "meeting", "k1", "participant", "p1", "err", "ice")
	put(t, dir, at.Add(2*time.Minute), "participant connected", "meeting", "k1", "participant", "p2",
		"user_id", "moodle-7", "name", "Tom Berg", "ip", "203.0.113.5", "user_agent", "Chrome/126")
	put(t, dir, at.Add(3*time.Minute), "meeting created", "meeting", "k1b", "meeting_id", "bio-101-breakout", "parent", "k1")
	put(t, dir, at.Add(4*time.Minute), "connected", "meeting", "k1b", "participant", "p1")
	put(t, dir, at.Add(5*time.Minute), "meeting ended", "meeting", "k1b")
	put(t, dir, at.Add(10*time.Minute), "meeting ended", "meeting", "k1")
	put(t, dir, at.Add(11*time.Minute), "http", "ip", "198.51.100.0/24", "path", "/")

	at2 := ago(1 * day)
	put(t, dir, at2, "meeting created", "meeting", "k2", "meeting_id", "chem-2")
	put(t, dir, at2.Add(time.Minute), "incoming call", "component", "dialin", "call", "c9",
		"from", "4930123456789", "source", "192.0.2.10:5060", "sip_call_id", "abc@192.0.2.10")
	put(t, dir, at2.Add(2*time.Minute), "caller joined the room", "component", "dialin", "call", "c9", "meeting", "k2", "participant", "ph1")
	put(t, dir, at2.Add(3*time.Minute), "track published", "component", "sfu", "meeting", "k2", "participant", "ph1")
	put(t, dir, at2.Add(3*time.Minute), "participant connected", "meeting", "k2", "participant", "p7",
		"user_id", "moodle-7", "name", "Tom Berg", "ip", "203.0.113.5", "user_agent", "Chrome/126")
	put(t, dir, at2.Add(4*time.Minute), "api call failed", "component", "web", "call", "join", "err", "x")
	return d
}

func msgs(f *Found) []string {
	var out []string
	for _, e := range f.Entries {
		out = append(out, e.Msg+"/"+e.Meeting+"/"+e.Participant)
	}
	return out
}

func TestFind(t *testing.T) {
	d := prepared(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		c    Criteria
		want []string
	}{
		// The join line names Vera; her later lines carry only her
		// participant ID, in her meeting (not in the breakout, where
		// she is another participant ID's line… here the same ID, but
		// another conference).
		{"user id", Criteria{UserID: "moodle-42"}, []string{"participant connected/k1/p1", "peer failed/k1/p1"}},
		{"name, any case", Criteria{Name: "  vera schulz "}, []string{"participant connected/k1/p1", "peer failed/k1/p1"}},
		{"ip", Criteria{IP: "198.51.100.7"}, []string{"participant connected/k1/p1", "peer failed/k1/p1"}},
		// The number is on the call's first line; the call ID leads to
		// the participant and its SFU lines.
		{"phone", Criteria{Phone: "+49 30 123456789"}, []string{"incoming call//", "caller joined the room/k2/ph1", "track published/k2/ph1"}},
		{"phone, national", Criteria{Phone: "030 123456789"}, []string{"incoming call//", "caller joined the room/k2/ph1", "track published/k2/ph1"}},
		{"SIP source", Criteria{IP: "192.0.2.10"}, []string{"incoming call//", "caller joined the room/k2/ph1", "track published/k2/ph1"}},
		{"Tom in both", Criteria{UserID: "moodle-7"}, []string{"participant connected/k1/p2", "participant connected/k2/p7"}},
		{"Tom in one meeting", Criteria{UserID: "moodle-7", Meeting: "chem-2"}, []string{"participant connected/k2/p7"}},
		{"Tom in a window", Criteria{Name: "Tom Berg", From: ago(2 * day)}, []string{"participant connected/k2/p7"}},
		{"meeting by platform ID, breakouts too", Criteria{Meeting: "bio-101"}, []string{
			"meeting created/k1/", "participant connected/k1/p1", "peer failed/k1/p1", "participant connected/k1/p2",
			"meeting created/k1b/", "connected/k1b/p1", "meeting ended/k1b/", "meeting ended/k1/"}},
		{"meeting by key", Criteria{Meeting: "k1b"}, []string{"meeting created/k1b/", "connected/k1b/p1", "meeting ended/k1b/"}},
		{"nobody", Criteria{UserID: "moodle-1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := d.Find(ctx, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(msgs(f), " | "); got != strings.Join(tc.want, " | ") {
				t.Errorf("found\n  %s\nwant\n  %s", got, strings.Join(tc.want, " | "))
			}
			if f.Count != len(tc.want) {
				t.Errorf("count %d", f.Count)
			}
		})
	}
}

func TestCriteriaRefused(t *testing.T) {
	d := prepared(t)
	ctx := context.Background()
	for _, c := range []Criteria{{}, {IP: "198.51.100"}, {Phone: "12"}, {From: ago(day), To: ago(2 * day)}} {
		if _, err := d.Find(ctx, c); !errors.Is(err, ErrCriteria) && !errors.Is(err, ErrNoCriteria) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := d.Erase(ctx, Criteria{From: ago(10 * day)}); !errors.Is(err, ErrTooBroad) {
		t.Errorf("erase by window alone: %v", err)
	}
	if _, _, err := d.AddHold(ctx, Criteria{UserID: "x"}, "", "me"); !errors.Is(err, ErrHoldReason) {
		t.Errorf("hold without reason: %v", err)
	}
	missing := &Dir{Path: d.Path + "/nope"}
	if _, err := missing.Find(ctx, Criteria{UserID: "x"}); err == nil {
		t.Error("a missing directory was searched")
	}
	if _, err := (&Dir{}).Find(ctx, Criteria{UserID: "x"}); !errors.Is(err, ErrNoDir) {
		t.Errorf("no directory: %v", err)
	}
}

func TestExport(t *testing.T) {
	d := prepared(t)
	putRaw(t, d.Path, ago(day), "torn line of 4930123456789\n")
	var buf bytes.Buffer
	sum, err := d.Export(context.Background(), Criteria{Phone: "+4930123456789"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary  Summary          `json:"summary"`
		Entries  []map[string]any `json:"entries"`
		Unparsed []UnparsedLine   `json:"unparsed"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is no JSON: %v\n%s", err, buf.String())
	}
	if doc.Summary.Count != 4 || sum.Count != 4 || len(doc.Entries) != 3 || len(doc.Unparsed) != 1 {
		t.Fatalf("export: %+v", doc)
	}
	if doc.Entries[0]["from"] != "4930123456789" || doc.Entries[0]["msg"] != "incoming call" {
		t.Errorf("first entry %v", doc.Entries[0])
	}
	if doc.Summary.Criteria.Phone != "+4930123456789" || doc.Summary.First.IsZero() || doc.Summary.Last.Before(doc.Summary.First) {
		t.Errorf("summary %+v", doc.Summary)
	}
	if len(doc.Summary.Meetings) != 1 || doc.Summary.Meetings[0].Key != "k2" || doc.Summary.Meetings[0].MeetingIDs[0] != "chem-2" {
		t.Errorf("meetings %+v", doc.Summary.Meetings)
	}
	if len(doc.Summary.Files) != 1 || doc.Summary.Files[0] != FileName(ago(day)) {
		t.Errorf("files %v", doc.Summary.Files)
	}
}

// Erase removes the person's entries and nothing else; the action is
// logged without what it searched for.
func TestErase(t *testing.T) {
	d := prepared(t)
	ctx := context.Background()
	before := strings.Count(all(t, d.Path), "\n")
	res, err := d.Erase(ctx, Criteria{UserID: "moodle-42"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 2 || res.Files != 1 {
		t.Errorf("erase %+v", res)
	}
	got := all(t, d.Path)
	if strings.Contains(got, "moodle-42") || strings.Contains(got, "Vera") || strings.Contains(got, "198.51.100.7") {
		t.Errorf("erased data remains:\n%s", got)
	}
	// Two lines fewer, one (the erase's own) more.
	if after := strings.Count(got, "\n"); after != before-2+1 {
		t.Errorf("%d lines before, %d after", before, after)
	}
	if !has(t, d.Path, "privacy erase", "criteria=user_id") {
		t.Error("erase not logged")
	}
	f, err := d.Find(ctx, Criteria{UserID: "moodle-42"})
	if err != nil || f.Count != 0 {
		t.Errorf("found after erase: %v %v", f, err)
	}
}

// A hold keeps entries from erase too; release lets them go.
func TestEraseRespectsHold(t *testing.T) {
	d := prepared(t)
	ctx := context.Background()
	h, n, err := d.AddHold(ctx, Criteria{Meeting: "chem-2"}, "court order 4 O 12/26", "Registry")
	if err != nil || n != 5 {
		t.Fatalf("hold: %d entries, %v", n, err)
	}
	res, err := d.Erase(ctx, Criteria{Phone: "4930123456789"})
	if err != nil {
		t.Fatal(err)
	}
	// The "incoming call" line belongs to chem-2 through its call.
	if res.Removed != 0 || res.Held != 3 {
		t.Errorf("erase under hold: %+v", res)
	}
	hs, err := d.Holds()
	if err != nil || len(hs) != 1 || hs[0].ID != h.ID || hs[0].Reason != "court order 4 O 12/26" || hs[0].By != "Registry" ||
		!hs[0].Created.Equal(t0) || hs[0].Criteria.Meeting != "chem-2" {
		t.Fatalf("holds %+v %v", hs, err)
	}
	f, err := d.Find(ctx, Criteria{Phone: "4930123456789"})
	if err != nil || f.OnHold != 3 {
		t.Errorf("find under hold: %+v %v", f, err)
	}
	if _, err := d.Release(h.ID); err != nil {
		t.Fatal(err)
	}
	if res, err := d.Erase(ctx, Criteria{Phone: "4930123456789"}); err != nil || res.Removed != 3 {
		t.Errorf("erase after release: %+v %v", res, err)
	}
	if strings.Contains(all(t, d.Path), "4930123456789") {
		t.Error("number remains")
	}
}

// Every request leaves a line in the log, outside any conference, that
// says what kind of request it was and how much it found, never what it
// searched for.
func TestActionsAreLoggedWithoutPersonalData(t *testing.T) {
	d := prepared(t)
	ctx := context.Background()
	c := Criteria{UserID: "moodle-42", Name: "Vera Schulz", IP: "198.51.100.7", Phone: "+49 170 5550100"}
	if _, err := d.Find(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Export(ctx, c, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	h, _, err := d.AddHold(ctx, c, "request by Vera Schulz", "Officer Krause")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Holds(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Release(h.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Erase(ctx, c); err != nil {
		t.Fatal(err)
	}
	var audit []string
	for _, l := range strings.Split(all(t, d.Path), "\n") {
		if strings.Contains(l, `"component":"privacy"`) {
			audit = append(audit, l)
		}
	}
	if len(audit) != 6 {
		t.Fatalf("%d action lines, want 6:\n%s", len(audit), strings.Join(audit, "\n"))
	}
	for _, l := range audit {
		for _, p := range []string{"moodle-42", "Vera", "198.51.100.7", "5550100", "Krause"} {
			if strings.Contains(l, p) {
				t.Errorf("action line carries %q: %s", p, l)
			}
		}
		e := ParseLine([]byte(l))
		if !e.OK || e.Meeting != "" {
			t.Errorf("action line %s", l)
		}
	}
	if !strings.Contains(audit[0], `"criteria":"user_id,name,ip,phone"`) || !strings.Contains(audit[0], `"count":2`) {
		t.Errorf("find line: %s", audit[0])
	}
}
