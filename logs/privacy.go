package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"
)

// Summary describes the entries a request selected.
type Summary struct {
	Criteria Criteria  `json:"criteria"`
	Count    int       `json:"count"`
	First    time.Time `json:"first,omitzero"`
	Last     time.Time `json:"last,omitzero"`
	// Meetings are the conferences the entries belong to.
	Meetings []MeetingSummary `json:"meetings"`
	// Files are the day files holding them.
	Files []string `json:"files"`
	// OnHold of the entries are kept by a hold (erase leaves them).
	OnHold    int       `json:"on_hold"`
	Generated time.Time `json:"generated"`
}

// MeetingSummary is one conference of a selection.
type MeetingSummary struct {
	Key string `json:"key"`
	// MeetingIDs are the platform's meetingID of it, when logged.
	MeetingIDs []string `json:"meeting_ids,omitempty"`
	// Ended is its "meeting ended" line's time; zero: none in this log.
	Ended   time.Time `json:"ended,omitzero"`
	Entries int       `json:"entries"`
}

// Found is the result of Find: the summary and the entries, oldest file
// first, in file order.
type Found struct {
	Summary
	Entries []FoundEntry
}

// FoundEntry is one selected line and the day file it is in.
type FoundEntry struct {
	File string
	Entry
}

// select runs a request: one pass for the index, one to collect.
func (d *Dir) selectEntries(ctx context.Context, c Criteria) (*Found, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	holds, err := readHolds(d.Path)
	if err != nil {
		return nil, err
	}
	files, err := dayFiles(d.Path)
	if err != nil {
		return nil, err
	}
	crit := []Criteria{c}
	for _, h := range holds {
		crit = append(crit, h.Criteria)
	}
	ix, sels, err := d.indexPass(ctx, files, crit...)
	if err != nil {
		return nil, err
	}
	out := &Found{Summary: Summary{Criteria: c, Generated: d.now().UTC(), Meetings: []MeetingSummary{}, Files: []string{}}}
	meetings := map[string]*MeetingSummary{}
	err = scanAll(ctx, files, func(f dayFile, e *Entry) error {
		if !sels[0].selects(e) {
			return nil
		}
		e.Raw = append([]byte(nil), e.Raw...)
		out.Entries = append(out.Entries, FoundEntry{File: f.name, Entry: *e})
		if anySelects(sels[1:], e) {
			out.OnHold++
		}
		if n := len(out.Files); n == 0 || out.Files[n-1] != f.name {
			out.Files = append(out.Files, f.name)
		}
		if out.First.IsZero() || e.Time.Before(out.First) {
			out.First = e.Time
		}
		if e.Time.After(out.Last) {
			out.Last = e.Time
		}
		if key := ix.conferenceOf(e); key != "" {
			m := meetings[key]
			if m == nil {
				m = &MeetingSummary{Key: key}
				if c := ix.confs[key]; c != nil && c.ended {
					m.Ended = c.end
				}
				for id, keys := range ix.byID {
					if keys[key] {
						m.MeetingIDs = append(m.MeetingIDs, id)
					}
				}
				sort.Strings(m.MeetingIDs)
				meetings[key] = m
			}
			m.Entries++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Count = len(out.Entries)
	for _, m := range meetings {
		out.Meetings = append(out.Meetings, *m)
	}
	sort.Slice(out.Meetings, func(i, j int) bool { return out.Meetings[i].Key < out.Meetings[j].Key })
	return out, nil
}

// Find selects a data subject's entries. It logs that it ran (criteria
// kinds and the count, never the values).
func (d *Dir) Find(ctx context.Context, c Criteria) (*Found, error) {
	f, err := d.selectEntries(ctx, c)
	if err != nil {
		return nil, err
	}
	return f, d.audit(slog.LevelInfo, "privacy find", "criteria", c.Kinds(), "count", f.Count)
}

// Export is the JSON document of an export: the summary and the entries
// as logged. Lines that are not JSON (torn writes) come as text.
type Export struct {
	Summary  Summary           `json:"summary"`
	Entries  []json.RawMessage `json:"entries"`
	Unparsed []UnparsedLine    `json:"unparsed,omitempty"`
}

// UnparsedLine is a malformed line of an export.
type UnparsedLine struct {
	File string `json:"file"`
	Text string `json:"text"`
}

// Export writes a data subject's entries to w as one JSON document.
func (d *Dir) Export(ctx context.Context, c Criteria, w io.Writer) (Summary, error) {
	f, err := d.selectEntries(ctx, c)
	if err != nil {
		return Summary{}, err
	}
	doc := Export{Summary: f.Summary, Entries: []json.RawMessage{}}
	for _, e := range f.Entries {
		if e.OK {
			doc.Entries = append(doc.Entries, json.RawMessage(e.Raw))
		} else {
			doc.Unparsed = append(doc.Unparsed, UnparsedLine{File: e.File, Text: string(e.Raw)})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return Summary{}, fmt.Errorf("export: %w", err)
	}
	return f.Summary, d.audit(slog.LevelInfo, "privacy export", "criteria", c.Kinds(), "count", f.Count)
}

// EraseResult tells what Erase did.
type EraseResult struct {
	// Removed entries are gone.
	Removed int `json:"removed"`
	// Held entries were selected but kept for a hold.
	Held int `json:"held"`
	// Files were rewritten.
	Files int `json:"files"`
}

// Erase removes a data subject's entries (not those a hold keeps), each
// day file rewritten atomically.
func (d *Dir) Erase(ctx context.Context, c Criteria) (EraseResult, error) {
	var res EraseResult
	if err := c.Validate(); err != nil {
		return res, err
	}
	if !c.identifies() && c.Meeting == "" {
		return res, ErrTooBroad
	}
	release, holds, files, err := d.beginRewrite()
	if err != nil {
		return res, err
	}
	defer release()
	crit := []Criteria{c}
	for _, h := range holds {
		crit = append(crit, h.Criteria)
	}
	_, sels, err := d.indexPass(ctx, files, crit...)
	if err != nil {
		return res, err
	}
	for _, f := range files {
		due := 0
		err := scanFile(ctx, f, func(e *Entry) error {
			if sels[0].selects(e) {
				if anySelects(sels[1:], e) {
					res.Held++
				} else {
					due++
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		if due == 0 {
			continue
		}
		// The count comes from the rewrite, under the lock: lines the
		// writer appended meanwhile count too.
		n, err := rewrite(f, func(e *Entry) bool { return sels[0].selects(e) && !anySelects(sels[1:], e) })
		if err != nil {
			return res, err
		}
		res.Removed += n
		res.Files++
	}
	return res, d.audit(slog.LevelInfo, "privacy erase", "criteria", c.Kinds(), "removed", res.Removed, "held", res.Held)
}

// AddHold puts the entries c selects on hold, now and as they are
// written later, until Release. It returns the hold and how many
// entries it holds now.
func (d *Dir) AddHold(ctx context.Context, c Criteria, reason, by string) (Hold, int, error) {
	if err := c.Validate(); err != nil {
		return Hold{}, 0, err
	}
	reason, by = strings.TrimSpace(reason), strings.TrimSpace(by)
	if reason == "" || by == "" {
		return Hold{}, 0, ErrHoldReason
	}
	release, err := d.lock()
	if err != nil {
		return Hold{}, 0, err
	}
	defer release()
	hs, err := readHolds(d.Path)
	if err != nil {
		return Hold{}, 0, err
	}
	h := Hold{ID: newHoldID(), Criteria: c, Reason: reason, By: by, Created: d.now().UTC()}
	if err := writeHolds(d.Path, append(hs, h)); err != nil {
		return Hold{}, 0, fmt.Errorf("holds: %w", err)
	}
	f, err := d.selectEntries(ctx, c)
	if err != nil {
		return h, 0, err
	}
	return h, f.Count, d.audit(slog.LevelInfo, "privacy hold", "hold", h.ID, "criteria", c.Kinds(), "count", f.Count)
}

// Release ends a hold; its entries are purged as if it never was (those
// past their retention at the next purge).
func (d *Dir) Release(id string) (Hold, error) {
	release, err := d.lock()
	if err != nil {
		return Hold{}, err
	}
	defer release()
	hs, err := readHolds(d.Path)
	if err != nil {
		return Hold{}, err
	}
	i := findHold(hs, id)
	if i < 0 {
		return Hold{}, fmt.Errorf("%w: %q", ErrHoldNotFound, id)
	}
	h := hs[i]
	if err := writeHolds(d.Path, append(hs[:i:i], hs[i+1:]...)); err != nil {
		return Hold{}, fmt.Errorf("holds: %w", err)
	}
	return h, d.audit(slog.LevelInfo, "privacy release", "hold", h.ID, "criteria", h.Criteria.Kinds())
}

// Holds lists the holds, oldest first.
func (d *Dir) Holds() ([]Hold, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	hs, err := readHolds(d.Path)
	if err != nil {
		return nil, err
	}
	return hs, d.audit(slog.LevelInfo, "privacy holds", "count", len(hs))
}
