package room

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// External video: the presenter shares a video (a plain MP4 or WebM file,
// or a video of a provider the operator allows: YouTube in its
// privacy-enhanced youtube-nocookie.com mode, Vimeo with dnt=1, PeerTube
// instances by host) and plays, pauses, seeks and changes the rate for
// everyone. The server holds the playback state in server time; clients
// compute the position from it and correct drift; late joiners start at
// the current position. Nothing of the third party loads before the
// presenter shares (the client opens the player only then, in a frame
// whose Content-Security-Policy allows exactly the shared video's origin).

// FeatureVideo names the external video.
const FeatureVideo = "video"

// Video providers.
const (
	ProviderFile     = "file"
	ProviderYouTube  = "youtube"
	ProviderVimeo    = "vimeo"
	ProviderPeerTube = "peertube"
)

// VideoPolicy is what the operator allows (AULA_VIDEO_PROVIDERS,
// AULA_VIDEO_PEERTUBE).
type VideoPolicy struct {
	// Providers allowed: file, youtube, vimeo, peertube.
	Providers []string
	// PeerTubeHosts are the PeerTube instances allowed (host names).
	PeerTubeHosts []string
}

func (p VideoPolicy) allows(provider string) bool {
	for _, v := range p.Providers {
		if v == provider {
			return true
		}
	}
	return false
}

// Video commands of the presenter.
type (
	// VideoShare shares a video URL (replacing one shared).
	VideoShare struct{ URL string }
	// VideoControl sets playback: playing or paused at Position seconds,
	// at Rate (0.25 to 4).
	VideoControl struct {
		Playing  bool
		Position float64
		Rate     float64
	}
	// VideoStop ends the sharing.
	VideoStop struct{}
)

// VideoView is the shared video's state: nothing shared when URL is "".
// Position (seconds) is the position at At (server time); while Playing it
// advances at Rate.
type VideoView struct {
	URL      string    `json:"url"`
	Provider string    `json:"provider"`
	Embed    string    `json:"embed"`
	Origin   string    `json:"origin"`
	Playing  bool      `json:"playing"`
	Position float64   `json:"position"`
	Rate     float64   `json:"rate"`
	At       time.Time `json:"at"`
	// Allowed are the providers a presenter may share from (those that
	// can play: peertube only with hosts), and PeerTubeHosts its hosts:
	// the operator's policy, so the client can say what works before
	// anyone tries. Filled in what is sent, never in what is stored.
	Allowed       []string `json:"allowed"`
	PeerTubeHosts []string `json:"peertubeHosts,omitempty"`
}

// VideoFeature registers the external video with a Manager.
func VideoFeature(p VideoPolicy) FeatureSpec {
	return FeatureSpec{Name: FeatureVideo, New: func(*Meeting) Feature { return &video{policy: p} }}
}

type video struct {
	V      VideoView `json:"v"`
	policy VideoPolicy
}

var (
	ytID      = regexp.MustCompile(`^[A-Za-z0-9_-]{6,20}$`)
	vimeoID   = regexp.MustCompile(`^[0-9]{1,15}$`)
	peertubID = regexp.MustCompile(`^[A-Za-z0-9-]{6,64}$`)
)

// ParseVideo checks a shared URL against the policy and returns the
// provider, the URL to embed and the origin it loads from.
func (p VideoPolicy) ParseVideo(raw string) (provider, embed, origin string, err error) {
	bad := func(why string) (string, string, string, error) {
		return "", "", "", fmt.Errorf("%w: video: %s", ErrInvalid, why)
	}
	raw = strings.TrimSpace(raw)
	if len(raw) > 2048 {
		return bad("the URL is too long")
	}
	u, perr := url.Parse(raw)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return bad("only http and https URLs")
	}
	host := strings.ToLower(u.Hostname())
	seg := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	switch {
	case host == "youtu.be" || host == "youtube.com" || strings.HasSuffix(host, ".youtube.com") ||
		host == "youtube-nocookie.com" || strings.HasSuffix(host, ".youtube-nocookie.com"):
		id := ""
		switch {
		case host == "youtu.be" && len(seg) == 1:
			id = seg[0]
		case len(seg) == 1 && seg[0] == "watch":
			id = u.Query().Get("v")
		case len(seg) == 2 && (seg[0] == "embed" || seg[0] == "shorts" || seg[0] == "live"):
			id = seg[1]
		}
		if !ytID.MatchString(id) {
			return bad("not a YouTube video address")
		}
		if !p.allows(ProviderYouTube) {
			return bad("YouTube is not allowed on this server")
		}
		return ProviderYouTube, "https://www.youtube-nocookie.com/embed/" + id + "?enablejsapi=1&rel=0&modestbranding=1",
			"https://www.youtube-nocookie.com", nil
	case host == "vimeo.com" || host == "www.vimeo.com" || host == "player.vimeo.com":
		id := seg[len(seg)-1]
		if !vimeoID.MatchString(id) {
			return bad("not a Vimeo video address")
		}
		if !p.allows(ProviderVimeo) {
			return bad("Vimeo is not allowed on this server")
		}
		return ProviderVimeo, "https://player.vimeo.com/video/" + id + "?dnt=1&api=1", "https://player.vimeo.com", nil
	}
	for _, h := range p.PeerTubeHosts {
		if host != strings.ToLower(h) {
			continue
		}
		id := ""
		switch {
		case len(seg) == 2 && (seg[0] == "w" || seg[0] == "embed"):
			id = seg[1]
		case len(seg) == 3 && seg[0] == "videos" && (seg[1] == "watch" || seg[1] == "embed"):
			id = seg[2]
		}
		if !peertubID.MatchString(id) || !p.allows(ProviderPeerTube) || u.Scheme != "https" {
			return bad("not a PeerTube video address")
		}
		origin = "https://" + u.Host
		return ProviderPeerTube, origin + "/videos/embed/" + id + "?api=1&warningTitle=0", origin, nil
	}
	ext := strings.ToLower(u.Path)
	if strings.HasSuffix(ext, ".mp4") || strings.HasSuffix(ext, ".webm") {
		if !p.allows(ProviderFile) {
			return bad("video files are not allowed on this server")
		}
		u.Fragment = ""
		return ProviderFile, u.String(), u.Scheme + "://" + u.Host, nil
	}
	return bad("not a video file (MP4, WebM) or an allowed provider's video")
}

func (v *video) Command(tx *Tx, actor *Participant, cmd any) (any, error) {
	if !CanPresent(actor) {
		return nil, fmt.Errorf("%w: only the presenter shares videos", ErrForbidden)
	}
	now := tx.Now().UTC()
	switch c := cmd.(type) {
	case VideoShare:
		provider, embed, origin, err := v.policy.ParseVideo(c.URL)
		if err != nil {
			return nil, err
		}
		v.V = VideoView{URL: strings.TrimSpace(c.URL), Provider: provider, Embed: embed, Origin: origin, Rate: 1, At: now}
	case VideoControl:
		if v.V.URL == "" {
			return nil, fmt.Errorf("%w: no video is shared", ErrNotFound)
		}
		if !finite(c.Position, c.Rate) || c.Position < 0 || c.Position > 24*3600 || c.Rate < 0.25 || c.Rate > 4 {
			return nil, fmt.Errorf("%w: position 0 to 24 h, rate 0.25 to 4", ErrInvalid)
		}
		v.V.Playing, v.V.Position, v.V.Rate, v.V.At = c.Playing, math.Round(c.Position*1000)/1000, c.Rate, now
	case VideoStop:
		v.V = VideoView{At: now}
	default:
		return nil, fmt.Errorf("%w: video command %T", ErrInvalid, cmd)
	}
	tx.Save()
	tx.Broadcast(v.out())
	return nil, nil
}

// out is the state as clients get it: with the policy.
func (v *video) out() VideoView {
	o := v.V
	o.Allowed = []string{}
	for _, p := range v.policy.Providers {
		if p == ProviderPeerTube && len(v.policy.PeerTubeHosts) == 0 {
			continue
		}
		o.Allowed = append(o.Allowed, p)
	}
	if v.policy.allows(ProviderPeerTube) {
		o.PeerTubeHosts = v.policy.PeerTubeHosts
	}
	return o
}

// View is the shared video, if any, and the policy (also when none is).
func (v *video) View(*Participant) any { return v.out() }

func (v *video) Snapshot() ([]byte, error) { return json.Marshal(v) }

func (v *video) Restore(snap []byte, _ [][]byte) error {
	if snap == nil {
		return nil
	}
	return json.Unmarshal(snap, v)
}

// SharedVideo returns the video shared in a running meeting ("" URL when
// none): the web layer opens the player frame's policy to its origin.
func (m *Manager) SharedVideo(key string) (VideoView, error) {
	l := m.lookup(key)
	if l == nil {
		return VideoView{}, ErrNotFound
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slot(FeatureVideo)
	if s == nil {
		return VideoView{}, ErrNoFeature
	}
	return s.f.(*video).V, nil
}
