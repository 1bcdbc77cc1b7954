package app

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"aula/dialin"
	"aula/notice"
	"aula/room"
	"aula/web"
)

// NoticeFacts describes what cfg makes the server process, for the
// privacy notice (aula privacy notice). Each fact is read from the same
// setting the server acts on, so the notice follows the configuration.
func NoticeFacts(cfg Config) notice.Facts {
	f := notice.Facts{
		Store:        notice.StoreMemory,
		StoreTTL:     cfg.StoreTTL,
		LogFiles:     cfg.LogDir != "",  // without it logs.New logs no personal data
		DialIn:       cfg.SIPAddr != "", // startDialin's condition
		CookieName:   web.CookieName,
		CookieSecure: strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://"),
	}
	if cfg.RedisURL != "" {
		f.Store, f.RedisLocal = notice.StoreRedis, redisLocal(cfg.RedisURL)
	}
	if f.LogFiles {
		// The periods the purge obeys (package logs, started by NewLogger).
		f.ConferenceLogRetention, f.AccessLogRetention = cfg.LogRetention, cfg.AccessLogRetention
	}
	if f.DialIn {
		f.DialNumber = strings.TrimSpace(cfg.DialNumber)
		// As the gateway names callers in a room, the same in every
		// language (it is their display name): an example number.
		f.CallerName, f.WithheldName = dialin.MaskedName("0301234789"), dialin.WithheldName(1)
	}
	f.TURN, _, _ = cfg.turnPort() // an invalid value is refused by Validate
	if p, err := cfg.videoPolicy(); err == nil {
		f.Video = noticeVideo(p)
	}
	return f
}

// noticeVideo lists what a presenter can really share under p: room's
// ParseVideo accepts PeerTube only for a listed host and with the
// provider allowed, so hosts without the provider (or the provider
// without hosts) allow nothing and are not named.
func noticeVideo(p room.VideoPolicy) notice.Video {
	has := func(provider string) bool { return slices.Contains(p.Providers, provider) }
	v := notice.Video{Files: has(room.ProviderFile), YouTube: has(room.ProviderYouTube), Vimeo: has(room.ProviderVimeo)}
	if has(room.ProviderPeerTube) {
		for _, h := range p.PeerTubeHosts {
			if !slices.Contains(v.PeerTube, h) {
				v.PeerTube = append(v.PeerTube, h)
			}
		}
	}
	return v
}

// redisLocal reports whether the Redis URL names this host: a unix socket
// or a loopback address. Anything else may be another machine, which the
// notice then asks the operator to name.
func redisLocal(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Scheme == "unix" {
		return true
	}
	h := u.Hostname()
	if h == "" {
		// go-redis connects to localhost:6379 when the URL names no host.
		return true
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
