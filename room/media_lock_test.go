package room_test

import (
	"errors"
	"testing"

	"aula/room"
)

// TestMediaLocksEnforced: the lock settings and muteOnStart hold in the
// server, whatever a client sends.
func TestMediaLocksEnforced(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{MuteOnStart: true, Lock: room.LockSettings{DisableCam: true, DisableMic: true}})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)

	if self, _ := vera.Self(); !self.Muted {
		t.Fatal("muteOnStart: a newcomer is not muted")
	}
	for _, tc := range []struct {
		name string
		p    *person
		s    room.MediaState
		want error
	}{
		{"viewer microphone locked", vera, room.MediaState{Audio: true}, room.ErrForbidden},
		{"viewer camera locked", vera, room.MediaState{Video: true}, room.ErrForbidden},
		{"viewer screen allowed", vera, room.MediaState{Screen: true}, nil},
		{"moderator camera and microphone", mona, room.MediaState{Audio: true, Video: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := tc.p.Self()
			err := tc.p.SetMedia(e.ctx, tc.s)
			if !errors.Is(err, tc.want) {
				t.Fatalf("SetMedia: %v, want %v", err, tc.want)
			}
			after, _ := tc.p.Self()
			if err != nil && after != before {
				t.Fatalf("a refused SetMedia changed %+v to %+v", before, after)
			}
			if err == nil && (after.Audio != tc.s.Audio || after.Video != tc.s.Video || after.Screen != tc.s.Screen) {
				t.Fatalf("state %+v, want %+v", after, tc.s)
			}
		})
	}
	if self, _ := mona.Self(); self.Muted {
		t.Error("switching one's own microphone on does not unmute")
	}
	// Demoted under the locks, the former moderator's camera and
	// microphone are switched off; the screen share is not locked.
	if err := mona.SetMedia(e.ctx, room.MediaState{Audio: true, Video: true, Screen: true}); err != nil {
		t.Fatal(err)
	}
	if err := mona.SetRole(e.ctx, vera.ID(), room.Moderator); err != nil {
		t.Fatal(err)
	}
	if err := vera.SetRole(e.ctx, mona.ID(), room.Viewer); err != nil {
		t.Fatal(err)
	}
	if self, _ := mona.Self(); self.Audio || self.Video || !self.Screen {
		t.Errorf("after demotion: %+v", self)
	}
	// A moderator mutes; nobody else can unmute: only the participant's
	// own SetMedia turns audio on again.
	if err := vera.SetMedia(e.ctx, room.MediaState{Audio: true}); err != nil {
		t.Fatal(err)
	}
	if err := vera.Mute(e.ctx, vera.ID()); err != nil {
		t.Fatal(err)
	}
	if self, _ := vera.Self(); !self.Muted || self.Audio {
		t.Errorf("after mute: %+v", self)
	}
}
