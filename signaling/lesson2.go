package signaling

import (
	"encoding/json"
	"time"

	"aula/room"
)

// Polls, shared notes, the timer and external video on the wire
// (docs/protocol.md, sections of the same names).

// Poll message types.
const (
	TypePollStart   = "poll.start"   // client: PollStartMsg (presenter or moderator)
	TypePollVote    = "poll.vote"    // client: PollVoteMsg
	TypePollStop    = "poll.stop"    // client: no data
	TypePollPublish = "poll.publish" // client: no data
	TypePollState   = "poll.state"   // server: room.PollView
)

// PollStartMsg asks a poll.
type PollStartMsg struct {
	Question  string   `json:"question"`
	Kind      string   `json:"kind"`
	Options   []string `json:"options,omitempty"`
	Labels    []string `json:"labels,omitempty"`
	Letters   int      `json:"letters,omitempty"`
	Multiple  bool     `json:"multiple,omitempty"`
	Anonymous bool     `json:"anonymous,omitempty"`
}

// PollVoteMsg answers the open poll.
type PollVoteMsg struct {
	Poll    string `json:"poll"`
	Choices []int  `json:"choices,omitempty"`
	Text    string `json:"text,omitempty"`
}

// Polls is the protocol side of room.PollFeature.
func Polls() *Feature {
	return &Feature{
		Name: room.FeaturePoll,
		Commands: map[string]func(json.RawMessage) (any, error){
			TypePollStart: decoder(func(p PollStartMsg) any {
				return room.PollStart{Question: p.Question, Kind: p.Kind, Options: p.Options, Labels: p.Labels, Letters: p.Letters,
					Multiple: p.Multiple, Anonymous: p.Anonymous}
			}),
			TypePollVote:    decoder(func(p PollVoteMsg) any { return room.PollVote{Poll: p.Poll, Choices: p.Choices, Text: p.Text} }),
			TypePollStop:    noDataCommand(room.PollStop{}),
			TypePollPublish: noDataCommand(room.PollPublish{}),
		},
		Event: func(_ string, payload any) (string, any, bool) {
			v, ok := payload.(room.PollView)
			return TypePollState, v, ok
		},
		Burst: 20, PerSecond: 5,
	}
}

// Notes message types.
const (
	TypeNotesEdit    = "notes.edit"    // client: NotesEditMsg
	TypeNotesCursor  = "notes.cursor"  // both: NotesCursorMsg
	TypeNotesSync    = "notes.sync"    // client: no data
	TypeNotesToBoard = "notes.toBoard" // client: no data (presenter or moderator)
	TypeNotesOp      = "notes.op"      // server: NotesOpMsg
	TypeNotesAck     = "notes.ack"     // server: NotesAckMsg
	TypeNotesState   = "notes.state"   // server: room.NotesView
)

// NotesEditMsg is an operation made on revision rev.
type NotesEditMsg struct {
	Rev int         `json:"rev"`
	Op  room.TextOp `json:"op"`
}

// NotesOpMsg is the operation that made revision rev, by author.
type NotesOpMsg struct {
	Rev    int         `json:"rev"`
	Op     room.TextOp `json:"op"`
	Author string      `json:"author"`
}

// NotesAckMsg: one's operation became revision rev.
type NotesAckMsg struct {
	Rev int `json:"rev"`
}

// NotesCursorMsg is a cursor (and selection end) at revision rev; id is
// set by the server.
type NotesCursorMsg struct {
	ID  string `json:"id,omitempty"`
	Rev int    `json:"rev"`
	Pos int    `json:"pos"`
	End int    `json:"end"`
}

// Notes is the protocol side of room.NotesFeature. Its budget allows
// typing: clients send an operation at most every 100 ms or so.
func Notes() *Feature {
	return &Feature{
		Name: room.FeatureNotes,
		Commands: map[string]func(json.RawMessage) (any, error){
			TypeNotesEdit:    decoder(func(p NotesEditMsg) any { return room.NotesEdit{Rev: p.Rev, Op: p.Op} }),
			TypeNotesCursor:  decoder(func(p NotesCursorMsg) any { return room.NotesCursor{Rev: p.Rev, Pos: p.Pos, End: p.End} }),
			TypeNotesSync:    noDataCommand(room.NotesSync{}),
			TypeNotesToBoard: noDataCommand(room.NotesToBoard{}),
		},
		Event: func(_ string, payload any) (string, any, bool) {
			switch e := payload.(type) {
			case room.NotesOp:
				return TypeNotesOp, NotesOpMsg{Rev: e.Rev, Op: e.Op, Author: e.Author}, true
			case room.NotesAck:
				return TypeNotesAck, NotesAckMsg{Rev: e.Rev}, true
			case room.NotesCursorMoved:
				return TypeNotesCursor, NotesCursorMsg{ID: e.ID, Rev: e.Rev, Pos: e.Pos, End: e.End}, true
			case room.NotesView:
				return TypeNotesState, e, true
			}
			return "", nil, false
		},
		Burst: 120, PerSecond: 60,
	}
}

// Timer message types.
const (
	TypeTimerStart  = "timer.start"  // client: TimerStartMsg (moderator)
	TypeTimerPause  = "timer.pause"  // client: no data (moderator)
	TypeTimerResume = "timer.resume" // client: no data (moderator)
	TypeTimerClear  = "timer.clear"  // client: no data (moderator)
	TypeTimerState  = "timer.state"  // server: room.TimerView
	TypeTimerDone   = "timer.done"   // server: no data
)

// TimerStartMsg starts a countdown of seconds, or a stopwatch.
type TimerStartMsg struct {
	Mode    string `json:"mode"`
	Seconds int    `json:"seconds,omitempty"`
}

// Timer is the protocol side of room.TimerFeature.
func Timer() *Feature {
	return &Feature{
		Name: room.FeatureTimer,
		Commands: map[string]func(json.RawMessage) (any, error){
			TypeTimerStart: decoder(func(p TimerStartMsg) any {
				return room.TimerStart{Mode: p.Mode, Duration: time.Duration(p.Seconds) * time.Second}
			}),
			TypeTimerPause:  noDataCommand(room.TimerPause{}),
			TypeTimerResume: noDataCommand(room.TimerResume{}),
			TypeTimerClear:  noDataCommand(room.TimerClear{}),
		},
		Event: func(_ string, payload any) (string, any, bool) {
			switch e := payload.(type) {
			case room.TimerView:
				return TypeTimerState, e, true
			case room.TimerDone:
				return TypeTimerDone, nil, true
			}
			return "", nil, false
		},
		Burst: 10, PerSecond: 2,
	}
}

// Video message types.
const (
	TypeVideoShare   = "video.share"   // client: VideoShareMsg (presenter)
	TypeVideoControl = "video.control" // client: VideoControlMsg (presenter)
	TypeVideoStop    = "video.stop"    // client: no data (presenter)
	TypeVideoState   = "video.state"   // server: room.VideoView
)

// VideoShareMsg shares a video URL.
type VideoShareMsg struct {
	URL string `json:"url"`
}

// VideoControlMsg sets playback.
type VideoControlMsg struct {
	Playing  bool    `json:"playing"`
	Position float64 `json:"position"`
	Rate     float64 `json:"rate"`
}

// Video is the protocol side of room.VideoFeature.
func Video() *Feature {
	return &Feature{
		Name: room.FeatureVideo,
		Commands: map[string]func(json.RawMessage) (any, error){
			TypeVideoShare: decoder(func(p VideoShareMsg) any { return room.VideoShare{URL: p.URL} }),
			TypeVideoControl: decoder(func(p VideoControlMsg) any {
				return room.VideoControl{Playing: p.Playing, Position: p.Position, Rate: p.Rate}
			}),
			TypeVideoStop: noDataCommand(room.VideoStop{}),
		},
		Event: func(_ string, payload any) (string, any, bool) {
			v, ok := payload.(room.VideoView)
			return TypeVideoState, v, ok
		},
		Burst: 20, PerSecond: 5,
	}
}
