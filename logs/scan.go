package logs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// dayFile is one day file of the directory.
type dayFile struct {
	name string
	path string
	day  time.Time // 00:00 UTC of its day
}

// dayFiles lists the day files, oldest first. Other files (holds.json,
// the lock, a leftover temporary file) are not day files.
func dayFiles(dir string) ([]dayFile, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("log dir: %w", err)
	}
	var out []dayFile
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		if d, ok := parseFileName(de.Name()); ok {
			out = append(out, dayFile{name: de.Name(), path: filepath.Join(dir, de.Name()), day: d})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].day.Before(out[j].day) })
	return out, nil
}

// endOfDay is when a malformed line of the file counts as written: the
// latest it can have been, so retention never deletes it early.
func (f dayFile) endOfDay() time.Time { return f.day.Add(24*time.Hour - time.Nanosecond) }

// parse reads a line of the file: a malformed one is dated endOfDay.
func (f dayFile) parse(b []byte) Entry {
	e := ParseLine(b)
	if !e.OK {
		e.Time = f.endOfDay()
	}
	return e
}

// scanFile calls fn for each complete line of f. A last line without its
// newline is left out: the writer may be half-way through it (a rewrite,
// which excludes writers, handles it itself). A missing file has no
// lines: a purge may just have removed it.
func scanFile(ctx context.Context, f dayFile, fn func(e *Entry) error) error {
	fh, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer fh.Close()
	r := bufio.NewReaderSize(fh, 64<<10)
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		b, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", f.name, err)
		}
		e := f.parse(bytes.TrimSuffix(b, []byte{'\n'}))
		if err := fn(&e); err != nil {
			return err
		}
	}
}

// scanAll scans every day file in order.
func scanAll(ctx context.Context, files []dayFile, fn func(f dayFile, e *Entry) error) error {
	for _, f := range files {
		if err := scanFile(ctx, f, func(e *Entry) error { return fn(f, e) }); err != nil {
			return err
		}
	}
	return nil
}

// pair is a participant inside one conference.
type pair struct{ meeting, participant string }

// conference is what the log tells of one conference.
type conference struct {
	ended bool
	end   time.Time // the end line's time
	last  time.Time // the last entry's time
	ids   map[string]bool
}

// index is what one pass over the whole directory learns: the end of
// each conference, which conference a dial-in call joined, which keys a
// platform meetingID had, the breakouts of a meeting, and which calls
// were which participants.
type index struct {
	confs     map[string]*conference
	calls     map[string]string // call ID → conference key
	callPairs map[string]map[pair]bool
	pairCalls map[pair]map[string]bool
	byID      map[string]map[string]bool // platform meetingID → keys
	children  map[string]map[string]bool // parent key → breakout keys
}

func newIndex() *index {
	return &index{confs: map[string]*conference{}, calls: map[string]string{},
		callPairs: map[string]map[pair]bool{}, pairCalls: map[pair]map[string]bool{},
		byID: map[string]map[string]bool{}, children: map[string]map[string]bool{}}
}

func addTo[K comparable, V comparable](m map[K]map[V]bool, k K, v V) {
	s := m[k]
	if s == nil {
		s = map[V]bool{}
		m[k] = s
	}
	s[v] = true
}

func (ix *index) add(e *Entry) {
	if !e.OK {
		return
	}
	if e.Call != "" && e.Meeting != "" {
		if _, ok := ix.calls[e.Call]; !ok {
			ix.calls[e.Call] = e.Meeting
		}
		if e.Participant != "" {
			p := pair{e.Meeting, e.Participant}
			addTo(ix.callPairs, e.Call, p)
			addTo(ix.pairCalls, p, e.Call)
		}
	}
	if e.Meeting == "" {
		return
	}
	c := ix.confs[e.Meeting]
	if c == nil {
		c = &conference{}
		ix.confs[e.Meeting] = c
	}
	if e.Time.After(c.last) {
		c.last = e.Time
	}
	if e.Msg == EndMessage && (!c.ended || e.Time.After(c.end)) {
		c.ended, c.end = true, e.Time
	}
	if e.MeetingID != "" {
		addTo(ix.byID, e.MeetingID, e.Meeting)
	}
	if e.Parent != "" && e.Msg == CreateMessage {
		addTo(ix.children, e.Parent, e.Meeting)
	}
}

// conferenceOf is the conference an entry belongs to: its key, or the
// conference its dial-in call joined (the "incoming call" line comes
// before the PIN and so before the meeting is known). Empty: none.
func (ix *index) conferenceOf(e *Entry) string {
	if e.Meeting != "" {
		return e.Meeting
	}
	if e.Call != "" {
		return ix.calls[e.Call]
	}
	return ""
}

// closed is when a conference's retention starts: its end line, or for
// a conference without one (the node crashed, or it ended on another
// node) its last entry in this directory.
func (ix *index) closed(key string) time.Time {
	c := ix.confs[key]
	if c == nil {
		return time.Time{}
	}
	if c.ended {
		return c.end
	}
	return c.last
}

// keysOf resolves a -meeting value: an incarnation key, or a platform
// meetingID (all its incarnations), with their breakouts.
func (ix *index) keysOf(meeting string) map[string]bool {
	keys := map[string]bool{}
	var add func(k string)
	add = func(k string) {
		if keys[k] {
			return
		}
		keys[k] = true
		for c := range ix.children[k] {
			add(c)
		}
	}
	meeting = strings.TrimSpace(meeting)
	if _, ok := ix.confs[meeting]; ok {
		add(meeting)
	}
	for k := range ix.byID[meeting] {
		add(k)
	}
	return keys
}
