package room_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"aula/room"
)

var allProviders = room.VideoPolicy{Providers: []string{room.ProviderFile, room.ProviderYouTube, room.ProviderVimeo, room.ProviderPeerTube},
	PeerTubeHosts: []string{"tube.example.org"}}

func newFullEnv(t *testing.T) *env {
	t.Helper()
	return newEnvConfig(t, func(c *room.Config) {
		c.Features = []room.FeatureSpec{room.PresentationFeature(), room.WhiteboardFeature(), room.PollFeature(),
			room.NotesFeature(), room.TimerFeature(), room.VideoFeature(allProviders)}
	})
}

func TestTimer(t *testing.T) {
	e := newFullEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	if _, err := vera.Command(e.ctx, room.FeatureTimer, room.TimerStart{Mode: room.TimerCountdown, Duration: time.Minute}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer setting the timer: %v", err)
	}
	for _, bad := range []room.TimerStart{{Mode: "egg", Duration: time.Minute}, {Mode: room.TimerCountdown}, {Mode: room.TimerCountdown, Duration: 48 * time.Hour}} {
		if _, err := mona.Command(e.ctx, room.FeatureTimer, bad); !errors.Is(err, room.ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	if _, err := mona.Command(e.ctx, room.FeatureTimer, room.TimerStart{Mode: room.TimerCountdown, Duration: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	e.tick(30 * time.Second)
	if _, err := mona.Command(e.ctx, room.FeatureTimer, room.TimerPause{}); err != nil {
		t.Fatal(err)
	}
	v := e.snapshot(vera).Features[room.FeatureTimer].(room.TimerView)
	if v.Running || v.Elapsed != 30*time.Second || v.Duration != 2*time.Minute {
		t.Fatalf("paused timer %+v", v)
	}
	e.tick(time.Hour) // paused: nothing happens
	if _, err := mona.Command(e.ctx, room.FeatureTimer, room.TimerResume{}); err != nil {
		t.Fatal(err)
	}
	vera.rec.take()
	e.tick(89 * time.Second)
	if n := countPayload[room.TimerDone](vera.rec.take()); n != 0 {
		t.Fatal("the countdown ended early")
	}
	e.tick(time.Second)
	e.tick(time.Second)
	if n := countPayload[room.TimerDone](vera.rec.take()); n != 1 {
		t.Fatalf("zero announced %d times, want once", n)
	}
}

func countPayload[T any](evs []room.Event) int {
	n := 0
	for _, ev := range evs {
		if _, ok := ev.Payload.(T); ok {
			n++
		}
	}
	return n
}

func pollOf(t *testing.T, e *env, p *person) room.PollView {
	t.Helper()
	v, ok := e.snapshot(p).Features[room.FeaturePoll].(room.PollView)
	if !ok {
		t.Fatalf("%s sees no poll", p.id.Name)
	}
	return v
}

func TestPollLifecycle(t *testing.T) {
	e := newFullEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	walt := e.join(mt, "Walt", room.Viewer)
	if _, err := vera.Command(e.ctx, room.FeaturePoll, room.PollStart{Question: "?", Kind: room.PollYesNo}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer asking: %v", err)
	}
	if _, err := mona.Command(e.ctx, room.FeaturePoll, room.PollStart{Question: "Alles klar?", Kind: room.PollLetters, Letters: 4, Multiple: true}); err != nil {
		t.Fatal(err)
	}
	id := pollOf(t, e, vera).ID
	vote := func(p *person, v room.PollVote) error {
		v.Poll = id
		_, err := p.Command(e.ctx, room.FeaturePoll, v)
		return err
	}
	mona.rec.take()
	if err := vote(vera, room.PollVote{Choices: []int{0, 2}}); err != nil {
		t.Fatal(err)
	}
	// The moderator gets the live result once, never the voter's view.
	var got []room.PollView
	for _, ev := range mona.rec.take() {
		if pv, ok := ev.Payload.(room.PollView); ok {
			got = append(got, pv)
		}
	}
	if len(got) != 1 || got[0].Total != 1 || got[0].Voted {
		t.Fatalf("the moderator received %+v after a vote, want one live result", got)
	}
	for _, bad := range []room.PollVote{{Choices: []int{1}}, {Choices: []int{9}}, {Text: "free"}, {}} {
		if err := vote(walt, bad); err == nil && bad.Choices != nil && bad.Choices[0] == 1 {
			continue // Walt's first answer is fine
		} else if err == nil {
			t.Fatalf("bad vote %+v accepted", bad)
		}
	}
	if err := vote(vera, room.PollVote{Choices: []int{1}}); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("a second vote: %v", err)
	}
	if _, err := vera.Command(e.ctx, room.FeaturePoll, room.PollVote{Poll: "nope", Choices: []int{0}}); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("an unknown poll: %v", err)
	}
	// Viewers see only their own answer before the result is published.
	v := pollOf(t, e, walt)
	if v.Counts != nil || !v.Voted || len(v.Mine) != 1 || v.Mine[0] != 1 {
		t.Fatalf("Walt's view before publishing: %+v", v)
	}
	m := pollOf(t, e, mona)
	if m.Total != 2 || m.Counts[0] != 1 || m.Counts[1] != 1 || m.Counts[2] != 1 || len(m.Voters[0]) != 1 || m.Voters[0][0] != vera.ID() {
		t.Fatalf("the moderator's live result: %+v", m)
	}
	if _, err := mona.Command(e.ctx, room.FeaturePoll, room.PollStop{}); err != nil {
		t.Fatal(err)
	}
	if err := vote(mona, room.PollVote{Choices: []int{0}}); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("a vote on a stopped poll: %v", err)
	}
	if _, err := mona.Command(e.ctx, room.FeaturePoll, room.PollPublish{}); err != nil {
		t.Fatal(err)
	}
	if v := pollOf(t, e, walt); v.Status != room.PollPublished || v.Total != 2 || v.Voters != nil {
		t.Fatalf("the published result for a viewer: %+v", v)
	}
	chat := e.snapshot(walt).Chat
	if len(chat) == 0 || !chat[len(chat)-1].System || !strings.Contains(chat[len(chat)-1].Text, "Alles klar?") {
		t.Fatalf("the result is not in the chat: %+v", chat)
	}
	board := e.snapshot(walt).Features[room.FeatureWhiteboard].(room.WhiteboardView)
	if shapes := board.Pages["blank/1"]; len(shapes) != 1 || !strings.Contains(shapes[0].Text, "A: 1") {
		t.Fatalf("the result is not on the page: %+v", board.Pages)
	}
}

// TestAnonymousPollKeepsNoVoter: during an anonymous poll, neither the
// store, nor any event, nor the moderators' view holds a voter's ID.
func TestAnonymousPollKeepsNoVoter(t *testing.T) {
	e := newFullEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	var voters []*person
	for i := range 3 {
		voters = append(voters, e.join(mt, fmt.Sprint("V", i), room.Viewer))
	}
	if _, err := mona.Command(e.ctx, room.FeaturePoll, room.PollStart{Question: "Wie war's?", Kind: room.PollText, Anonymous: true}); err != nil {
		t.Fatal(err)
	}
	id := pollOf(t, e, mona).ID
	everyone := append([]*person{mona}, voters...)
	for _, p := range everyone {
		p.rec.take()
	}
	for i, v := range voters {
		if _, err := v.Command(e.ctx, room.FeaturePoll, room.PollVote{Poll: id, Text: fmt.Sprint("Antwort ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := voters[0].Command(e.ctx, room.FeaturePoll, room.PollVote{Poll: id, Text: "again"}); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("a second anonymous vote: %v", err)
	}
	if m := pollOf(t, e, mona); m.Total != 3 || m.TextVoters != nil || m.Voters != nil {
		t.Fatalf("the moderator's view of an anonymous poll: %+v", m)
	}
	// The poll's part of the store (its log and snapshot; the roster of
	// course names everyone) and every poll event.
	var haystack strings.Builder
	for k, v := range e.flushed().Dump() {
		if strings.Contains(k, ":log") {
			haystack.WriteString(k + v)
		}
	}
	for _, p := range everyone {
		for _, ev := range p.rec.take() {
			if ev.Feature == room.FeaturePoll {
				fmt.Fprintf(&haystack, "%+v", ev.Payload)
			}
		}
		if v := pollOf(t, e, p); p != mona {
			fmt.Fprintf(&haystack, "%+v", v)
		}
	}
	for _, v := range voters {
		if strings.Contains(haystack.String(), v.ID()) {
			t.Fatalf("voter %s's ID is in the store or an event", v.id.Name)
		}
	}
	if !strings.Contains(haystack.String(), "Antwort 2") {
		t.Fatal("the search saw no answer at all: the test looks in the wrong place")
	}
}

func TestVideoURLs(t *testing.T) {
	only := room.VideoPolicy{Providers: []string{room.ProviderFile}}
	cases := []struct {
		policy   room.VideoPolicy
		url      string
		provider string
		origin   string
	}{
		{allProviders, "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3", room.ProviderYouTube, "https://www.youtube-nocookie.com"},
		{allProviders, "https://youtu.be/dQw4w9WgXcQ", room.ProviderYouTube, "https://www.youtube-nocookie.com"},
		{allProviders, "https://vimeo.com/76979871", room.ProviderVimeo, "https://player.vimeo.com"},
		{allProviders, "https://tube.example.org/w/9c9de5e8-0a1e-484a-b099-e80766180a6d", room.ProviderPeerTube, "https://tube.example.org"},
		{allProviders, "https://media.example.org/lesson/clip.MP4", room.ProviderFile, "https://media.example.org"},
		{only, "http://127.0.0.1:8000/clip.webm", room.ProviderFile, "http://127.0.0.1:8000"},
		{only, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "", ""},
		{allProviders, "javascript:alert(1)//x.mp4", "", ""},
		{allProviders, "data:video/mp4;base64,AAAA", "", ""},
		{allProviders, "https://evil.example/watch?v=dQw4w9WgXcQ", "", ""},
		{allProviders, "https://other-tube.example/w/9c9de5e8-0a1e-484a-b099-e80766180a6d", "", ""},
		{allProviders, "https://user:pw@media.example.org/x.mp4", "", ""},
		{allProviders, "https://www.youtube.com/watch?v=<script>", "", ""},
	}
	for _, c := range cases {
		provider, embed, origin, err := c.policy.ParseVideo(c.url)
		if c.provider == "" {
			if !errors.Is(err, room.ErrInvalid) {
				t.Errorf("%s: accepted as %s", c.url, provider)
			}
			continue
		}
		if err != nil || provider != c.provider || origin != c.origin || !strings.HasPrefix(embed, origin+"/") {
			t.Errorf("%s: %s %s %s %v", c.url, provider, embed, origin, err)
		}
	}
}

func TestVideoSync(t *testing.T) {
	e := newFullEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator) // presenter
	vera := e.join(mt, "Vera", room.Viewer)
	if _, err := vera.Command(e.ctx, room.FeatureVideo, room.VideoShare{URL: "https://media.example.org/a.mp4"}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer sharing: %v", err)
	}
	if _, err := mona.Command(e.ctx, room.FeatureVideo, room.VideoShare{URL: "https://media.example.org/a.mp4"}); err != nil {
		t.Fatal(err)
	}
	if _, err := mona.Command(e.ctx, room.FeatureVideo, room.VideoControl{Playing: false, Position: 12, Rate: 1}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []room.VideoControl{{Position: -1, Rate: 1}, {Position: 1, Rate: 9}} {
		if _, err := mona.Command(e.ctx, room.FeatureVideo, bad); !errors.Is(err, room.ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	late := e.join(mt, "Late", room.Viewer)
	v := e.snapshot(late).Features[room.FeatureVideo].(room.VideoView)
	if v.Playing || v.Position != 12 || v.Provider != room.ProviderFile {
		t.Fatalf("late joiner's video %+v", v)
	}
	if _, err := mona.Command(e.ctx, room.FeatureVideo, room.VideoStop{}); err != nil {
		t.Fatal(err)
	}
	if v := e.snapshot(late).Features[room.FeatureVideo].(room.VideoView); v.URL != "" {
		t.Fatalf("a stopped video is still shared: %+v", v)
	}
	// The policy comes with the state, shared or not.
	if v := e.snapshot(late).Features[room.FeatureVideo].(room.VideoView); !slices.Equal(v.Allowed, allProviders.Providers) || !slices.Equal(v.PeerTubeHosts, []string{"tube.example.org"}) {
		t.Fatalf("allowed providers %v, hosts %v", v.Allowed, v.PeerTubeHosts)
	}
}

// TestPollResultInTheAskersLanguage: a yes/no poll asked with labels
// publishes "Ja"/"Nein", not the keys; labels that do not fit are refused.
func TestPollResultInTheAskersLanguage(t *testing.T) {
	e := newFullEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	for _, bad := range []room.PollStart{
		{Question: "?", Kind: room.PollYesNo, Labels: []string{"Ja"}},
		{Question: "?", Kind: room.PollLetters, Letters: 2, Labels: []string{"x", "y"}},
		{Question: "?", Kind: room.PollYesNo, Labels: []string{"Ja", "<b>Nein</b>\x00"}},
	} {
		if _, err := mona.Command(e.ctx, room.FeaturePoll, bad); !errors.Is(err, room.ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	if _, err := mona.Command(e.ctx, room.FeaturePoll, room.PollStart{Question: "Alles klar?", Kind: room.PollYesNo, Labels: []string{"Ja", "Nein"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := vera.Command(e.ctx, room.FeaturePoll, room.PollVote{Poll: pollOf(t, e, vera).ID, Choices: []int{0}}); err != nil {
		t.Fatal(err)
	}
	if v := pollOf(t, e, vera); v.Options[0] != "yes" {
		t.Fatalf("the options stay keys for the clients: %v", v.Options)
	}
	if _, err := mona.Command(e.ctx, room.FeaturePoll, room.PollPublish{}); err != nil {
		t.Fatal(err)
	}
	chat := e.snapshot(vera).Chat
	if text := chat[len(chat)-1].Text; !strings.Contains(text, "Ja: 1") || !strings.Contains(text, "Nein: 0") || strings.Contains(text, "yes") {
		t.Fatalf("the published result %q", text)
	}
}
