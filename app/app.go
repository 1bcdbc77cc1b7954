// Package app wires Aula together: configuration, store, room manager,
// web server, signaling, media and dial-in. cmd/aula is a thin shell over
// it, and end-to-end tests start the same App in-process.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"aula/dialin"
	"aula/present"
	"aula/render"
	"aula/room"
	"aula/sfu"
	"aula/signaling"
	"aula/store"
	"aula/web"
	"aula/web/static"
)

// App is a running Aula node.
type App struct {
	cfg   Config
	log   *slog.Logger
	store room.Store
	files *store.Dir
	mgr   *room.Manager
	sig   *signaling.Server
	sfu   *sfu.SFU
	media *signaling.Media
	gw    *dialin.Gateway
	conv  *render.Renderer
	docs  *present.Service
	srv   *http.Server
	ln    net.Listener
	url   *url.URL

	// Operations (tls.go, tlsmux.go, drain.go): certificates, the HTTPS
	// port shared with TURN over TLS, the redirect, the drain.
	tls      *tlsSetup
	mux      *tlsMux
	redirect *http.Server
	draining atomic.Bool
	running  running

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds an App from a validated Config. Nothing listens until Start.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Secret == "" {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		cfg.Secret, cfg.secretGenerated = hex.EncodeToString(b[:]), true
	}
	a := &App{cfg: cfg, log: log}
	st, err := store.Open(ctx, cfg.RedisURL, log)
	if err != nil {
		return nil, fmt.Errorf("AULA_REDIS_URL: %w", err)
	}
	a.store = st
	files, err := store.NewDir(cfg.DataDir)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("AULA_DATA_DIR: %w", err)
	}
	a.files = files
	video, _ := cfg.videoPolicy() // checked by Validate
	a.mgr = room.NewManager(room.Config{
		TTL:            cfg.StoreTTL,
		ReconnectGrace: cfg.ReconnectGrace,
		Logger:         log.With("component", "room"),
		// The lesson features: each a state machine in room, an
		// extension in signaling (Start) and a client module.
		Features: []room.FeatureSpec{room.ReactionFeature(), room.PresentationFeature(), room.WhiteboardFeature(),
			room.PollFeature(), room.NotesFeature(), room.TimerFeature(), room.VideoFeature(video)},
	}, st, files)
	// Documents are drawn by pdfium in WebAssembly, LibreOffice when it
	// is installed; its start (compiling pdfium) runs in the background.
	conv, err := render.New(render.Config{Logger: log})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("documents: %w", err)
	}
	a.conv = conv
	a.docs = present.New(a.mgr, files, conv, 0, log)
	a.mgr.OnStart(a.running.start)
	a.mgr.OnEnd(a.running.end)
	if a.tls, err = newTLSSetup(cfg, log); err != nil {
		_ = conv.Close()
		st.Close()
		return nil, err
	}
	return a, nil
}

// Start listens on HTTPAddr and serves until Close. On failure it undoes
// what it started, newest first.
func (a *App) Start() (err error) {
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("AULA_HTTP_ADDR: %w", err)
	}
	a.ln = ln
	undo = append(undo, func() { ln.Close() })
	pub := a.cfg.PublicURL
	if pub == "" {
		pub = a.defaultPublicURL(ln.Addr())
	}
	a.url, err = url.Parse(pub)
	if err != nil {
		return fmt.Errorf("AULA_PUBLIC_URL: %w", err)
	}
	// Loopback is a reverse proxy on this host, carrying everyone. The
	// caps apply before any TLS handshake is spent on a connection.
	var serveLn net.Listener = web.LimitListener(ln, a.cfg.HTTPMaxConnsPerIP, a.cfg.HTTPMaxConns,
		netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	if conf := a.tls.httpsConfig(); conf != nil {
		a.mux = newTLSMux(serveLn, conf, a.cfg.sharesHTTPPort(), a.log.With("component", "tls"))
		undo = append(undo, a.mux.close)
		serveLn = a.mux.http
	}
	if err := a.startMedia(ln.Addr()); err != nil {
		return err
	}
	undo = append(undo, func() { a.sfu.Close() })
	if err := a.startDialin(); err != nil {
		return err
	}
	undo = append(undo, func() { a.closeDialin() })
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerMediaMetrics(reg, a.sfu, a.media)
	registerDialinMetrics(reg, a.gw)
	registerRoomMetrics(reg, a.mgr)
	registerOpsMetrics(reg, a)
	a.sig = signaling.New(signaling.Options{
		Manager:        a.mgr,
		AllowedOrigins: []string{a.url.Scheme + "://" + a.url.Host},
		Logger:         a.log.With("component", "signaling"),
		Extensions: []signaling.Extension{a.media, signaling.Reactions(), signaling.Presentation(),
			signaling.Whiteboard(), signaling.Polls(), signaling.Notes(), signaling.Timer(), signaling.Video()},
	})
	allow, err := web.ParseNetworks(a.cfg.FetchAllowNetworks)
	if err != nil {
		return fmt.Errorf("AULA_FETCH_ALLOW_NETWORKS: %w", err)
	}
	// Checked by Validate.
	proxies, _ := web.ParseNetworks(a.cfg.TrustedProxies)
	ancestors, _ := a.cfg.frameAncestors()
	metricsAllow, _ := a.cfg.metricsAllow()
	h, err := web.New(web.Options{
		PublicURL:          a.url,
		Secret:             a.cfg.Secret,
		Manager:            a.mgr,
		Files:              a.files,
		Docs:               a.docs,
		WS:                 a.sig,
		Static:             static.FS,
		DialNumber:         a.cfg.DialNumber,
		Logger:             a.log,
		Registry:           reg,
		FetchAllowNetworks: allow,
		TrustedProxies:     proxies,
		FrameAncestors:     ancestors,
		MetricsToken:       a.cfg.MetricsToken,
		MetricsAllow:       metricsAllow,
		Draining:           a.Draining,
	})
	if err != nil {
		return err
	}
	// WebSockets outlive Read/WriteTimeout: their upgrade clears the
	// deadlines these set, and signaling keeps its own.
	a.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.cfg.HTTPReadTimeout,
		WriteTimeout:      a.cfg.HTTPWriteTimeout,
		IdleTimeout:       a.cfg.HTTPIdleTimeout,
	}
	if err := a.startRedirect(); err != nil {
		return err
	}
	undo = append(undo, func() { _ = a.closeRedirect(context.Background()) })
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		if err := a.srv.Serve(serveLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server", "err", err)
		}
	}()
	go func() {
		defer a.wg.Done()
		a.mgr.Run(ctx, time.Second)
	}()
	a.log.Info("listening", "addr", ln.Addr().String(), "tls", a.mux != nil, "public_url", a.url.String(), "store", storeKind(a.cfg.RedisURL))
	return nil
}

func storeKind(redisURL string) string {
	if redisURL == "" {
		return "memory"
	}
	return "redis"
}

// URL is the public base URL.
func (a *App) URL() string { return a.url.String() }

// Secret is the BBB shared secret in force (generated when not configured).
func (a *App) Secret() string { return a.cfg.Secret }

// SecretGenerated reports whether Secret was generated at start-up.
func (a *App) SecretGenerated() bool { return a.cfg.secretGenerated }

// Manager is the room manager.
func (a *App) Manager() *room.Manager { return a.mgr }

// Store is the room store.
func (a *App) Store() room.Store { return a.store }

// DataDir is where meeting files live.
func (a *App) DataDir() string { return a.cfg.DataDir }

// Close drains the node: it ends every meeting here (telling everyone and
// wiping their data), stops the servers and closes the store.
func (a *App) Close(ctx context.Context) error {
	a.mgr.Shutdown(ctx)
	var err error
	if a.sig != nil {
		a.sig.Close()
	}
	if a.srv != nil {
		err = a.srv.Shutdown(ctx)
	}
	err = errors.Join(err, a.closeRedirect(ctx))
	if a.mux != nil {
		a.mux.close()
	}
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	// After the meetings ended (their callers heard so); any call still
	// up is hung up here.
	err = errors.Join(err, a.closeDialin())
	if a.sfu != nil {
		err = errors.Join(err, a.sfu.Close())
	}
	// The meetings' end cancelled their conversions; wait for them.
	a.docs.Close()
	err = errors.Join(err, a.conv.Close())
	return errors.Join(err, a.store.Close())
}
