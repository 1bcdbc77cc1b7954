// Package web is Aula's HTTP face: the BigBlueButton API that course
// platforms call, the join flow that turns a signed join link into a
// session cookie, the embedded browser client, avatars proxied so browsers
// never contact the platform, health and metrics. gin lives only here.
//
// Where Aula departs from BigBlueButton, on purpose:
//   - A POST whose form body carries parameters must be signed over the
//     query string and the body joined with "&" (as BBB 2.4/2.5 did). BBB
//     3.0 signs only the query string, which leaves body parameters open
//     to anyone who saw one checksum; such a request gets checksumError.
//   - join of an unknown meeting answers notFound (BBB ≥ 2.4 says
//     invalidMeetingIdentifier there, older BBB notFound).
//   - A voiceBridge in use answers voiceBridgeNotUnique (BBB has no key).
//   - record=true is accepted and ignored: nothing is ever recorded, and
//     every reply says so; getRecordings answers noRecordings.
//   - logoutURL, avatarURL, errorRedirectUrl and document URLs must be
//     http(s); meta_ names must be XML names (BBB lower-cases them too).
//   - Document URLs, avatars and meta_endCallbackUrl are fetched from
//     public addresses only, unless Options.FetchAllowNetworks allows more
//     (outbound.go); every failed document download reads the same.
//   - hooks/* (BBB's webhooks module) answers FAILED unsupportedRequest.
//   - userdata-* names that are no XML names are dropped; count and value
//     length are capped (BBB has no caps).
//   - The API root tells bbbVersion, which BBB hides by default.
package web

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"aula/present"
	"aula/room"
)

// WSHandler serves a participant's WebSocket once the session is checked.
type WSHandler interface {
	ServeWS(w http.ResponseWriter, r *http.Request, s *room.Session)
}

// Options configure the HTTP handler.
type Options struct {
	// PublicURL is the base of every link handed out; https makes the
	// session cookie Secure.
	PublicURL *url.URL
	// Secret is the BBB shared secret.
	Secret  string
	Manager *room.Manager
	// Files keeps presentations pre-uploaded on create (may be nil: then
	// create with documents fails).
	Files room.Files
	// Docs converts presentations (may be nil: documents are refused).
	Docs *present.Service
	// WS serves /r/<slot>/ws (may be nil: 503).
	WS WSHandler
	// Static is the web client (index.html, css/, js/).
	Static fs.FS
	// DialNumber is create's default dialNumber.
	DialNumber string
	Logger     *slog.Logger
	// Registry gets the web metrics and serves /metrics (may be nil).
	Registry *prometheus.Registry
	// FrameAncestors lists who may embed Aula in a frame (CSP
	// frame-ancestors sources, e.g. https://moodle.example.org); empty
	// means 'self'. With other origins over https the session cookie is
	// SameSite=None and Partitioned, else an embedded client has none.
	FrameAncestors []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For
	// counts: behind them the client is the right-most address of that
	// header that is not a trusted proxy itself. Empty: the TCP peer is
	// the client and the header is ignored.
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, lets a scrape of /metrics in with
	// "Authorization: Bearer <token>" from anywhere.
	MetricsToken string
	// MetricsAllow are the client networks that may read /metrics
	// without the token; nil means loopback, empty (non-nil) none.
	MetricsAllow []netip.Prefix
	// Draining, when it returns true, makes create refuse new meetings
	// (running ones still answer create and join) and /readyz fail: the
	// node is on its way out.
	Draining func() bool
	// MaxUploadBytes caps each pre-uploaded presentation (30 MiB).
	MaxUploadBytes int64
	// FetchTimeout bounds a presentation download (10s).
	FetchTimeout time.Duration
	// AvatarTimeout bounds an avatar fetch (5s); AvatarMaxBytes caps it (1 MiB).
	AvatarTimeout  time.Duration
	AvatarMaxBytes int64
	// FetchAllowNetworks opens networks that outbound requests (document
	// URLs, avatars, the end callback) may reach although they are not
	// public: loopback, private, link-local … are refused otherwise.
	FetchAllowNetworks []netip.Prefix
}

// server holds what the handlers share.
type server struct {
	o       Options
	log     *slog.Logger
	mgr     *room.Manager
	client  *http.Client
	csp     string
	base    string // PublicURL without a trailing slash
	secure  bool
	metrics *metrics
	fetch   func(context.Context, string, int64) ([]byte, error)
	// callbacks holds a token per end callback in flight.
	callbacks chan struct{}
	// i18n are the client's translation catalogues, for the server's pages.
	i18n catalogues
	// assets caches the embedded files with their ETags, by name.
	assets sync.Map
	// docFetches counts the platform's document downloads in flight.
	docFetches sync.WaitGroup
}

func init() {
	// gin's debug mode prints every route on start-up; Aula logs through slog.
	gin.SetMode(gin.ReleaseMode)
}

// New returns Aula's HTTP handler.
func New(o Options) (http.Handler, error) {
	if o.PublicURL == nil || (o.PublicURL.Scheme != "http" && o.PublicURL.Scheme != "https") || o.PublicURL.Host == "" {
		return nil, errors.New("web: PublicURL must be an absolute http or https URL")
	}
	if o.Secret == "" {
		return nil, errors.New("web: Secret is empty")
	}
	if o.Manager == nil {
		return nil, errors.New("web: Manager is nil")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 30 << 20
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = 10 * time.Second
	}
	if o.AvatarTimeout <= 0 {
		o.AvatarTimeout = 5 * time.Second
	}
	if o.AvatarMaxBytes <= 0 {
		o.AvatarMaxBytes = 1 << 20
	}
	s := &server{
		o:      o,
		log:    o.Logger.With("component", "web"),
		mgr:    o.Manager,
		client: newOutboundClient(o.FetchAllowNetworks),
		base:   strings.TrimRight(o.PublicURL.String(), "/"),
		secure: o.PublicURL.Scheme == "https",
	}
	cats, err := loadCatalogues(o.Static)
	if err != nil {
		return nil, err
	}
	s.i18n = cats
	s.csp = contentSecurityPolicy(o.FrameAncestors)
	s.fetch = s.fetchDocument
	s.callbacks = make(chan struct{}, endCallbackMaxInFlight)
	// Hooks stay with the manager: call New once per Manager.
	o.Manager.OnEnded(s.onMeetingEnded)
	if o.Registry != nil {
		m, err := newMetrics(o.Registry)
		if err != nil {
			return nil, err
		}
		s.metrics = m
		o.Manager.OnEnd(func(string) { m.ended.Inc() })
	}
	return s.routes(), nil
}

func (s *server) routes() http.Handler {
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = false
	e.ContextWithFallback = true
	// Client addresses are taken by clientIP below, never from headers
	// gin would trust by default.
	_ = e.SetTrustedProxies(nil)
	e.Use(s.recoverer, s.accessLog, s.securityHeaders)

	api := func(c *gin.Context) { s.serveAPI(c.Writer, c.Request, c.Param("call")) }
	e.GET("/bigbluebutton/api", s.serveVersion)
	e.GET("/bigbluebutton/api/", s.serveVersion)
	e.POST("/bigbluebutton/api", s.serveVersion)
	e.POST("/bigbluebutton/api/", s.serveVersion)
	e.GET("/bigbluebutton/api/:call", api)
	e.POST("/bigbluebutton/api/:call", api)
	// BBB's webhooks module is not offered: its clients get a FAILED
	// reply they understand instead of an HTML 404 page.
	hooks := func(c *gin.Context) { s.fail(c.Writer, "hooks", ErrUnsupported) }
	e.GET("/bigbluebutton/api/hooks/*rest", hooks)
	e.POST("/bigbluebutton/api/hooks/*rest", hooks)

	e.GET("/join/:token", s.serveRedeem)
	e.GET("/r/:slot", func(c *gin.Context) {
		c.Redirect(http.StatusFound, "/r/"+url.PathEscape(c.Param("slot"))+"/")
	})
	e.GET("/r/:slot/*rest", s.serveClient)
	e.HEAD("/r/:slot/*rest", s.serveClient)
	e.POST("/r/:slot/*rest", s.serveClient) // uploads; the rest answers 404
	e.GET("/static/*file", s.serveStatic)
	e.HEAD("/static/*file", s.serveStatic)
	// /healthz: the process serves (restart it when not). /readyz: it can
	// do its work, its store answers (send it no traffic when not).
	e.GET("/healthz", func(c *gin.Context) {
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(http.StatusOK, "ok\n")
	})
	e.GET("/readyz", s.serveReady)
	if s.o.Registry != nil {
		e.GET("/metrics", s.guardMetrics, gin.WrapH(promHandler(s.o.Registry)))
	}
	e.NoRoute(func(c *gin.Context) {
		s.page(c.Writer, c.Request, nil, http.StatusNotFound, "notFound")
	})
	return e
}

// bbbVersion is the BigBlueButton release whose API Aula answers like:
// 2.7, the release whose names the newest parameters Aula reads go by
// (join's redirectErrorUrl besides errorRedirectUrl, role= besides the
// passwords, sha384/sha512 checksums), but not 3.0, whose signing of only
// the query string of form POSTs Aula refuses (see above). Platforms that
// gate features on the version get 2.7's set.
const bbbVersion = "2.7.0"

// serveVersion answers the API root as BBB does (no checksum needed).
func (s *server) serveVersion(c *gin.Context) {
	writeXML(c.Writer, versionXML{ReturnCode: success, Version: "2.0", APIVersion: "2.0", BBBVersion: bbbVersion})
}

// readyTimeout bounds the store check of /readyz, below the usual probe
// timeouts of load balancers and orchestrators.
const readyTimeout = 2 * time.Second

// serveReady answers 200 when the store answers and the node is not
// draining, 503 otherwise. A store failure's reason goes to the log, not
// to whoever probes.
func (s *server) serveReady(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	if s.draining() {
		c.String(http.StatusServiceUnavailable, "draining\n")
		return
	}
	if err := s.mgr.Ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		c.String(http.StatusServiceUnavailable, "not ready\n")
		return
	}
	c.String(http.StatusOK, "ready\n")
}

func (s *server) draining() bool { return s.o.Draining != nil && s.o.Draining() }

// contentSecurityPolicy is the strict policy of every response: nothing is
// loaded from anywhere but Aula itself.
func contentSecurityPolicy(ancestors []string) string {
	fa := "'self'"
	if len(ancestors) > 0 {
		fa = strings.Join(ancestors, " ")
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
		"media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
		"frame-ancestors " + fa + "; form-action 'self'"
}

func (s *server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=(), interest-cohort=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// recoverer turns a panic in a handler into a 500 and a log line, never a
// dead server.
func (s *server) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panic", "path", logPath(c.Request.URL.Path), "panic", v)
			if !c.Writer.Written() {
				c.AbortWithStatus(http.StatusInternalServerError)
			}
		}
	}()
	c.Next()
}
