package room

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Polls: the presenter or a moderator asks (yes/no, yes/no/abstain,
// true/false, letters A–F, custom options, free text), for one or several
// choices, optionally anonymous. Participants see only their own answer
// until the result is published; moderators watch the result live (with
// names, unless anonymous). Publishing puts the result into the chat and
// onto the current whiteboard page. A new poll ends the running one.
// Phone callers are not asked.
//
// An anonymous poll keeps no voter identity anywhere: votes are counted
// without who cast them, in memory, in the store and in every event. To
// refuse a second vote it remembers, while the poll is open and in this
// process's memory only, a keyed hash of each voter with a key made for
// the poll and forgotten with it.

// FeaturePoll names the polls.
const FeaturePoll = "poll"

// Poll kinds.
const (
	PollYesNo        = "yesno"
	PollYesNoAbstain = "yesnoabstain"
	PollTrueFalse    = "truefalse"
	PollLetters      = "letters"
	PollCustom       = "custom"
	PollText         = "text"
)

// Poll states.
const (
	PollOpen      = "open"
	PollStopped   = "stopped"
	PollPublished = "published"
)

// Limits of polls.
const (
	maxPollQuestion = 300
	maxPollOption   = 100
	maxPollOptions  = 10
	maxPollLetters  = 6
	maxPollText     = 300
	maxPolls        = 100
)

// Poll commands.
type (
	// PollStart asks a new poll (presenter or moderator).
	PollStart struct {
		Question string
		Kind     string
		Options  []string // custom polls
		// Labels name a built-in kind's options (yes, no …) in the asker's
		// language, for the published result in chat and on the page,
		// which everyone sees alike. Optional; the clients translate the
		// options themselves.
		Labels    []string
		Letters   int // letter polls: 2 to 6 (A–F)
		Multiple  bool
		Anonymous bool
	}
	// PollVote answers the open poll: option indexes, or Text.
	PollVote struct {
		Poll    string
		Choices []int
		Text    string
	}
	// PollStop stops taking answers; PollPublish shows the result to all.
	PollStop    struct{}
	PollPublish struct{}
)

// PollView is a poll as one participant may see it (a PollState event and
// welcome's features.poll).
type PollView struct {
	ID        string   `json:"id"`
	Question  string   `json:"question"`
	Kind      string   `json:"kind"`
	Options   []string `json:"options"`
	Multiple  bool     `json:"multiple"`
	Anonymous bool     `json:"anonymous"`
	Status    string   `json:"status"`
	// Voted and Mine are the viewer's own answer (Mine empty when
	// anonymous: not even the server knows it).
	Voted    bool   `json:"voted"`
	Mine     []int  `json:"mine,omitempty"`
	MineText string `json:"mineText,omitempty"`
	// Result: counts per option, answers of a text poll, number of
	// voters; for moderators always, for the others once published.
	Counts []int    `json:"counts,omitempty"`
	Texts  []string `json:"texts,omitempty"`
	Total  int      `json:"total"`
	// Voters lists who chose each option (moderators, not anonymous).
	Voters [][]string `json:"voters,omitempty"`
	// TextVoters lists who wrote each text (moderators, not anonymous).
	TextVoters []string `json:"textVoters,omitempty"`
}

// PollFeature registers the polls with a Manager.
func PollFeature() FeatureSpec {
	return FeatureSpec{Name: FeaturePoll, CompactEvery: 200, New: func(*Meeting) Feature { return &polls{} }}
}

type pollVote struct {
	Choices []int  `json:"c,omitempty"`
	Text    string `json:"t,omitempty"`
}

type poll struct {
	ID        string   `json:"id"`
	Question  string   `json:"q"`
	Kind      string   `json:"kind"`
	Options   []string `json:"options"`
	Labels    []string `json:"labels,omitempty"`
	Multiple  bool     `json:"multiple,omitempty"`
	Anonymous bool     `json:"anonymous,omitempty"`
	Status    string   `json:"status"`
	Counts    []int    `json:"counts"`
	Texts     []string `json:"texts,omitempty"`
	Total     int      `json:"total"`
	// Votes by participant: named polls only.
	Votes map[string]pollVote `json:"votes,omitempty"`
	// TextBy lists who wrote each text: named polls only.
	TextBy []string `json:"textBy,omitempty"`
	// key and voted refuse second votes of an anonymous poll: in memory
	// only, while it is open.
	key   []byte
	voted map[string]bool
}

type polls struct {
	Current *poll `json:"current,omitempty"`
	Count   int   `json:"count"`
}

// pollEntry is one log entry: the whole poll on a change of state, or one
// vote (with its voter for named polls only).
type pollEntry struct {
	Poll  *poll     `json:"poll,omitempty"`
	Vote  *pollVote `json:"vote,omitempty"`
	Voter string    `json:"voter,omitempty"`
}

// labelsOf checks the asker's names for a built-in kind's options: one
// per option, short plain text; none for kinds whose options are already
// what people see (letters, custom, text).
func labelsOf(c PollStart, opts []string) ([]string, error) {
	if len(c.Labels) == 0 {
		return nil, nil
	}
	switch c.Kind {
	case PollYesNo, PollYesNoAbstain, PollTrueFalse:
	default:
		return nil, fmt.Errorf("%w: labels only for yes/no and true/false polls", ErrInvalid)
	}
	if len(c.Labels) != len(opts) {
		return nil, fmt.Errorf("%w: %d labels for %d options", ErrInvalid, len(c.Labels), len(opts))
	}
	out := make([]string, len(c.Labels))
	for i, l := range c.Labels {
		l = strings.TrimSpace(l)
		if err := shortText(l, maxPollOption, "label"); err != nil {
			return nil, err
		}
		out[i] = l
	}
	return out, nil
}

// optionsOf returns a poll kind's options; built-in kinds use keys the
// clients translate.
func optionsOf(c PollStart) ([]string, error) {
	switch c.Kind {
	case PollYesNo:
		return []string{"yes", "no"}, nil
	case PollYesNoAbstain:
		return []string{"yes", "no", "abstain"}, nil
	case PollTrueFalse:
		return []string{"true", "false"}, nil
	case PollLetters:
		if c.Letters < 2 || c.Letters > maxPollLetters {
			return nil, fmt.Errorf("%w: 2 to %d letters", ErrInvalid, maxPollLetters)
		}
		return strings.Split("A B C D E F"[:2*c.Letters-1], " "), nil
	case PollText:
		return []string{}, nil
	case PollCustom:
		if len(c.Options) < 2 || len(c.Options) > maxPollOptions {
			return nil, fmt.Errorf("%w: 2 to %d options", ErrInvalid, maxPollOptions)
		}
		out := make([]string, len(c.Options))
		for i, o := range c.Options {
			o = strings.TrimSpace(o)
			if err := shortText(o, maxPollOption, "option"); err != nil {
				return nil, err
			}
			out[i] = o
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: poll kind %q", ErrInvalid, c.Kind)
}

// shortText checks a short free text.
func shortText(s string, max int, what string) error {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return fmt.Errorf("%w: %s of 1 to %d characters", ErrInvalid, what, max)
	}
	return plainText(s)
}

// mayAsk reports whether p may run polls.
func mayAsk(p *Participant) bool { return p.Role == Moderator || CanPresent(p) }

func (ps *polls) Command(tx *Tx, actor *Participant, cmd any) (any, error) {
	if actor.Kind == Phone {
		return nil, fmt.Errorf("%w: phone callers are not asked", ErrForbidden)
	}
	switch c := cmd.(type) {
	case PollStart:
		if !mayAsk(actor) {
			return nil, fmt.Errorf("%w: only the presenter or a moderator asks", ErrForbidden)
		}
		c.Question = strings.TrimSpace(c.Question)
		if err := shortText(c.Question, maxPollQuestion, "question"); err != nil {
			return nil, err
		}
		opts, err := optionsOf(c)
		if err != nil {
			return nil, err
		}
		labels, err := labelsOf(c, opts)
		if err != nil {
			return nil, err
		}
		if ps.Count >= maxPolls {
			return nil, fmt.Errorf("%w: at most %d polls per meeting", ErrInvalid, maxPolls)
		}
		if c.Kind == PollText {
			c.Multiple = false
		}
		ps.forget()
		p := &poll{ID: NewID()[:12], Question: c.Question, Kind: c.Kind, Options: opts, Labels: labels, Multiple: c.Multiple,
			Anonymous: c.Anonymous, Status: PollOpen, Counts: make([]int, len(opts))}
		if p.Anonymous {
			p.key = make([]byte, 32)
			if _, err := rand.Read(p.key); err != nil {
				return nil, err
			}
			p.voted = map[string]bool{}
		} else {
			p.Votes = map[string]pollVote{}
		}
		ps.Current, ps.Count = p, ps.Count+1
		ps.logPoll(tx)
		ps.tellAll(tx)
		return nil, nil
	case PollVote:
		return nil, ps.vote(tx, actor, c)
	case PollStop, PollPublish:
		if !mayAsk(actor) {
			return nil, fmt.Errorf("%w: only the presenter or a moderator ends a poll", ErrForbidden)
		}
		p := ps.Current
		if p == nil {
			return nil, fmt.Errorf("%w: no poll", ErrNotFound)
		}
		if _, publish := c.(PollPublish); publish {
			if p.Status == PollPublished {
				return nil, fmt.Errorf("%w: already published", ErrInvalid)
			}
			p.Status = PollPublished
			ps.publish(tx, p)
		} else {
			if p.Status != PollOpen {
				return nil, fmt.Errorf("%w: the poll is not open", ErrInvalid)
			}
			p.Status = PollStopped
		}
		ps.forget()
		ps.logPoll(tx)
		ps.tellAll(tx)
		return nil, nil
	}
	return nil, fmt.Errorf("%w: poll command %T", ErrInvalid, cmd)
}

// forget drops what refuses second votes of an anonymous poll.
func (ps *polls) forget() {
	if p := ps.Current; p != nil {
		p.key, p.voted = nil, nil
	}
}

// token is a voter's keyed hash for the open anonymous poll.
func (p *poll) token(id string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

func (p *poll) hasVoted(id string) bool {
	if p.Anonymous {
		return p.voted != nil && p.voted[p.token(id)]
	}
	_, ok := p.Votes[id]
	return ok
}

func (ps *polls) vote(tx *Tx, actor *Participant, c PollVote) error {
	p := ps.Current
	if p == nil || p.ID != c.Poll {
		return fmt.Errorf("%w: no such poll", ErrNotFound)
	}
	if p.Status != PollOpen {
		return fmt.Errorf("%w: the poll is closed", ErrInvalid)
	}
	if p.Anonymous && p.voted == nil {
		// An adopted meeting lost who voted: it stops taking answers
		// rather than take a second one.
		return fmt.Errorf("%w: the poll is closed", ErrInvalid)
	}
	if p.hasVoted(actor.ID) {
		return fmt.Errorf("%w: you have answered already", ErrInvalid)
	}
	v := pollVote{}
	if p.Kind == PollText {
		t := strings.TrimSpace(c.Text)
		if err := shortText(t, maxPollText, "answer"); err != nil {
			return err
		}
		if len(c.Choices) > 0 {
			return fmt.Errorf("%w: a text poll takes text", ErrInvalid)
		}
		v.Text = t
	} else {
		if c.Text != "" || len(c.Choices) == 0 || (!p.Multiple && len(c.Choices) > 1) || len(c.Choices) > len(p.Options) {
			return fmt.Errorf("%w: choose one option (or several where allowed)", ErrInvalid)
		}
		seen := map[int]bool{}
		for _, ch := range c.Choices {
			if ch < 0 || ch >= len(p.Options) || seen[ch] {
				return fmt.Errorf("%w: no such option", ErrInvalid)
			}
			seen[ch] = true
		}
		v.Choices = append([]int(nil), c.Choices...)
	}
	p.apply(v)
	e := pollEntry{Vote: &v}
	if p.Anonymous {
		p.voted[p.token(actor.ID)] = true
	} else {
		p.Votes[actor.ID] = v
		if v.Text != "" {
			p.TextBy = append(p.TextBy, actor.ID)
		}
		e.Voter = actor.ID
	}
	if b, err := json.Marshal(e); err == nil {
		tx.Append(b)
	}
	// The voter sees their answer; those who run polls the live result.
	tx.SendTo(actor.ID, ps.viewFor(actor))
	tx.Participants(func(q *Participant) {
		if q.ID != actor.ID && mayAsk(q) && q.Kind != Phone {
			tx.SendTo(q.ID, ps.viewFor(q))
		}
	})
	return nil
}

// apply counts a vote.
func (p *poll) apply(v pollVote) {
	p.Total++
	if v.Text != "" {
		p.Texts = append(p.Texts, v.Text)
		return
	}
	for _, c := range v.Choices {
		if c >= 0 && c < len(p.Counts) {
			p.Counts[c]++
		}
	}
}

// logPoll logs the poll's state (start, stop, publish).
func (ps *polls) logPoll(tx *Tx) {
	if b, err := json.Marshal(pollEntry{Poll: ps.Current}); err == nil {
		tx.Append(b)
	}
}

// tellAll sends every participant (but phone callers) their view.
func (ps *polls) tellAll(tx *Tx) {
	tx.Participants(func(q *Participant) {
		if q.Kind != Phone {
			tx.SendTo(q.ID, ps.viewFor(q))
		}
	})
}

// viewFor is the poll as q may see it.
func (ps *polls) viewFor(q *Participant) PollView {
	p := ps.Current
	v := PollView{ID: p.ID, Question: p.Question, Kind: p.Kind, Options: p.Options, Multiple: p.Multiple,
		Anonymous: p.Anonymous, Status: p.Status, Voted: p.hasVoted(q.ID)}
	if !p.Anonymous {
		if mine, ok := p.Votes[q.ID]; ok {
			v.Mine, v.MineText = mine.Choices, mine.Text
		}
	}
	if mayAsk(q) || p.Status == PollPublished {
		// Copies: the view is encoded by connections after the lock is
		// released, while the next vote changes the poll's own.
		v.Counts, v.Texts, v.Total = slices.Clone(p.Counts), slices.Clone(p.Texts), p.Total
	}
	if mayAsk(q) && !p.Anonymous {
		v.Voters = make([][]string, len(p.Options))
		for id, vote := range p.Votes {
			for _, c := range vote.Choices {
				v.Voters[c] = append(v.Voters[c], id)
			}
		}
		v.TextVoters = slices.Clone(p.TextBy)
	}
	return v
}

// publish writes the result into the chat and onto the current page.
func (ps *polls) publish(tx *Tx, p *poll) {
	var b strings.Builder
	b.WriteString(p.Question)
	if p.Kind == PollText {
		for _, t := range p.Texts {
			b.WriteString("\n– " + t)
		}
	} else {
		for i, o := range p.Options {
			if i < len(p.Labels) {
				o = p.Labels[i]
			}
			fmt.Fprintf(&b, "\n%s: %d", o, p.Counts[i])
		}
	}
	fmt.Fprintf(&b, "\n(%d)", p.Total)
	text := b.String()
	tx.SystemChat(text)
	pres, ok := tx.Peer(FeaturePresentation).(*presentation)
	if !ok {
		return
	}
	cur := pres.current()
	if cur == nil {
		return
	}
	if utf8.RuneCountInString(text) > MaxShapeText {
		text = string([]rune(text)[:MaxShapeText-1]) + "…"
	}
	page := PageRef{Doc: cur.ID, Page: cur.Page}
	if err := tx.Also(FeatureWhiteboard, func(sub *Tx, f Feature) {
		w, ok := f.(*whiteboard)
		if !ok || len(w.Pages[page.key()]) >= MaxShapesPerPage || w.count >= MaxShapes {
			return
		}
		s := &Shape{ID: "poll-" + p.ID, Kind: ShapeText, Points: []Point{{0.6, 0.08}}, Color: "#1a237e",
			Width: 0.002, Text: text, Size: 0.035}
		if _, old := w.find(page.key(), s.ID); old == nil {
			w.record(sub, "", wbOp{Op: "add", Page: page.key(), Shapes: []*Shape{s}}, false)
		}
	}); err != nil {
		tx.l.mgr.log.Warn("poll result on the whiteboard", "err", err)
	}
}

func (ps *polls) View(q *Participant) any {
	if ps.Current == nil || q.Kind == Phone {
		return nil
	}
	return ps.viewFor(q)
}

func (ps *polls) Snapshot() ([]byte, error) { return json.Marshal(ps) }

func (ps *polls) Restore(snap []byte, entries [][]byte) error {
	if snap != nil {
		if err := json.Unmarshal(snap, ps); err != nil {
			return err
		}
	}
	for _, raw := range entries {
		var e pollEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		switch {
		case e.Poll != nil:
			if ps.Current == nil || ps.Current.ID != e.Poll.ID {
				ps.Count++
			}
			ps.Current = e.Poll
		case e.Vote != nil && ps.Current != nil:
			ps.Current.apply(*e.Vote)
			if e.Voter != "" && ps.Current.Votes != nil {
				ps.Current.Votes[e.Voter] = *e.Vote
				if e.Vote.Text != "" {
					ps.Current.TextBy = append(ps.Current.TextBy, e.Voter)
				}
			}
		}
	}
	if p := ps.Current; p != nil && p.Votes == nil && !p.Anonymous {
		p.Votes = map[string]pollVote{}
	}
	return nil
}
