package room_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aula/room"
)

// TestHiddenListHidesViewersInChat: under "participants cannot see each
// other" a viewer reads other viewers' public lines without their name or
// ID, live and in the history; moderators see everything.
func TestHiddenListHidesViewersInChat(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{Lock: room.LockSettings{HideUserList: true}})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	walt := e.join(mt, "Walt", room.Viewer)
	for _, p := range []*person{mona, vera, walt} {
		p.rec.take()
	}
	if _, err := walt.Chat(e.ctx, "", "who else is here?"); err != nil {
		t.Fatal(err)
	}
	if _, err := mona.Chat(e.ctx, "", "welcome"); err != nil {
		t.Fatal(err)
	}
	check := func(who *person, lines []room.ChatMessage) {
		t.Helper()
		for _, c := range lines {
			switch c.Text {
			case "who else is here?":
				hidden := c.From == "" && c.FromName == ""
				if want := who == vera; hidden != want {
					t.Fatalf("%s sees Walt's line as %+v (hidden %v, want %v)", who.id.Name, c, hidden, want)
				}
			case "welcome":
				if c.FromName != "Mona" || c.From != mona.ID() {
					t.Fatalf("%s sees the moderator's line as %+v", who.id.Name, c)
				}
			}
		}
	}
	for _, p := range []*person{mona, vera, walt} {
		var live []room.ChatMessage
		for _, ev := range p.rec.take() {
			if ev.Type == room.EventChat {
				live = append(live, *ev.Chat)
			}
		}
		if len(live) != 2 {
			t.Fatalf("%s got %d lines", p.id.Name, len(live))
		}
		check(p, live)
		check(p, e.snapshot(p).Chat)
	}
	for _, c := range e.snapshot(vera).Chat {
		if strings.Contains(c.FromName, "Walt") || c.From == walt.ID() {
			t.Fatal("Walt's name or ID reached Vera")
		}
	}
}

// TestLockChangesApplyLive: a moderator locks the camera and microphone
// and hides the user list mid-meeting: viewers' devices are switched off
// at once, everyone learns the new settings, viewers are told to
// resynchronise, and the policy functions answer with the new settings.
func TestLockChangesApplyLive(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	walt := e.join(mt, "Walt", room.Viewer)
	for _, p := range []*person{vera, walt} {
		if err := p.SetMedia(e.ctx, room.MediaState{Audio: true, Video: true}); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := e.mgr.MediaPolicy(mt.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !pol.CanReceive(walt.ID(), vera.ID(), room.MediaCamera) {
		t.Fatal("unlocked: a viewer cannot receive another's camera")
	}
	for _, p := range []*person{mona, vera, walt} {
		p.rec.take()
	}
	lock := room.LockSettings{DisableCam: true, DisableMic: true, HideUserList: true}
	if err := vera.SetLock(e.ctx, lock); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer changing the locks: %v", err)
	}
	if err := mona.SetLock(e.ctx, lock); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{vera, walt} {
		if self, _ := p.Self(); self.Audio || self.Video {
			t.Fatalf("%s's devices stay on under the lock: %+v", p.id.Name, self)
		}
	}
	for _, p := range []*person{mona, vera, walt} {
		var got *room.Event
		for _, ev := range p.rec.take() {
			if ev.Type == room.EventMeetingUpdated {
				got = &ev
			}
		}
		if got == nil || got.Meeting.Lock != lock || got.Resync != (p != mona) {
			t.Fatalf("%s: meeting update %+v", p.id.Name, got)
		}
	}
	if pol.CanReceive(walt.ID(), vera.ID(), room.MediaMic) || pol.CanSee(walt.ID(), vera.ID()) {
		t.Fatal("the policy still lets viewers reach each other")
	}
	if !pol.CanReceive(mona.ID(), vera.ID(), room.MediaScreen) || !pol.CanReceive(walt.ID(), mona.ID(), room.MediaCamera) {
		t.Fatal("the policy cut moderators off")
	}
	e.wantRoster(vera, "Mona", "Vera")
	if got, _ := e.mgr.MeetingByKey(e.ctx, mt.Key); got.Lock != lock {
		t.Fatalf("meeting lock %+v", got.Lock)
	}
	if st, _ := e.flushed().GetMeeting(e.ctx, mt.Key); st.Lock != lock {
		t.Fatalf("stored lock %+v", st.Lock)
	}
}

func TestMediaPolicyTable(t *testing.T) {
	M, V := room.Moderator, room.Viewer
	cases := []struct {
		lock     room.LockSettings
		sub, pub room.Role
		kind     room.MediaKind
		want     bool
	}{
		{room.LockSettings{}, V, V, room.MediaCamera, true},
		{room.LockSettings{WebcamsOnlyForModerator: true}, V, V, room.MediaCamera, false},
		{room.LockSettings{WebcamsOnlyForModerator: true}, V, V, room.MediaMic, true},
		{room.LockSettings{WebcamsOnlyForModerator: true}, M, V, room.MediaCamera, true},
		{room.LockSettings{HideUserList: true}, V, V, room.MediaMic, false},
		{room.LockSettings{HideUserList: true}, V, M, room.MediaScreen, true},
		{room.LockSettings{HideUserList: true}, M, V, room.MediaCamera, true},
	}
	for _, c := range cases {
		if got := room.MayReceive(c.lock, c.sub, c.pub, c.kind); got != c.want {
			t.Errorf("MayReceive(%+v, %s, %s, %s) = %v", c.lock, c.sub, c.pub, c.kind, got)
		}
	}
}

// TestRecreatedMeetingSharesNothing: the same meetingID created, ended and
// created again is a new incarnation: no key, file or session of the first
// is seen by the second.
func TestRecreatedMeetingSharesNothing(t *testing.T) {
	e := newEnv(t)
	first := e.create(room.Settings{MeetingID: "weekly"})
	mona := e.join(first, "Mona", room.Moderator)
	if _, err := mona.Chat(e.ctx, "", "first week"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mgr.StoreFile(e.ctx, first.Key, "week1.pdf", []byte("%PDF")); err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.End(e.ctx, first.Key, room.ReasonAPI); err != nil {
		t.Fatal(err)
	}
	second := e.create(room.Settings{MeetingID: "weekly"})
	if second.Key == first.Key {
		t.Fatal("the second incarnation reuses the first's key")
	}
	if _, err := e.mgr.Session(e.ctx, mona.tok); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("the first incarnation's session lives on: %v", err)
	}
	otto := e.join(second, "Otto", room.Moderator)
	if s := e.snapshot(otto); len(s.Chat) != 0 || len(s.Roster) != 1 {
		t.Fatalf("the second incarnation sees %d lines and %d people", len(s.Chat), len(s.Roster))
	}
	if _, err := os.Stat(filepath.Join(e.files.Root(), first.Key)); !os.IsNotExist(err) {
		t.Fatalf("the first incarnation's folder: %v", err)
	}
	for k := range e.flushed().Keys() {
		if strings.Contains(k, first.Key) {
			t.Fatalf("key %s of the first incarnation remains", k)
		}
	}
}

// TestReplacedHandle: the handle of a connection replaced by a newer one
// gets ErrReplaced, and its Detach leaves the newer connection alone.
func TestReplacedHandle(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	again, err := e.attach(mt, mona.id, mona.tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mona.Chat(e.ctx, "", "from the old tab"); !errors.Is(err, room.ErrReplaced) {
		t.Fatalf("old handle: %v, want ErrReplaced", err)
	}
	mona.Detach(e.ctx)
	if self, err := again.Self(); err != nil || !self.Connected {
		t.Fatalf("the new connection after the old one's detach: %+v, %v", self, err)
	}
}

// TestChildEndsWithParent: a child meeting (a breakout) ends with its
// parent, before the parent's wipe.
func TestChildEndsWithParent(t *testing.T) {
	e := newEnv(t)
	parent := e.create(room.Settings{MeetingID: "main"})
	child, err := e.mgr.CreateChild(e.ctx, parent.Key, room.Settings{MeetingID: "main-breakout-1", Name: "Group 1"})
	if err != nil {
		t.Fatal(err)
	}
	if child.Parent != parent.Key {
		t.Fatalf("child parent %q", child.Parent)
	}
	otto := e.join(child, "Otto", room.Moderator)
	if err := e.mgr.End(e.ctx, parent.Key, room.ReasonAPI); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, room.ReasonParent, "", otto)
	if _, err := e.mgr.MeetingByKey(e.ctx, child.Key); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("child after the parent's end: %v", err)
	}
	if _, err := e.mgr.CreateChild(e.ctx, parent.Key, room.Settings{MeetingID: "late"}); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("child of an ended parent: %v", err)
	}
	e.wantWiped(parent)
}
