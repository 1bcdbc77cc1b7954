package app

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"aula/room"
	"aula/web"
)

// Config is every setting of the server. Each field is set, in order, from
// its default, the JSON config file (-config / AULA_CONFIG), the
// environment (AULA_<NAME>) and the command-line flag (-<name>); the tag
// `name` gives the name in all three forms.
type Config struct {
	// HTTPAddr is the listen address of the web server (API, client, WebSocket).
	HTTPAddr string `name:"http-addr" json:"http_addr"`
	// HTTPReadTimeout bounds reading one request, headers and body: a
	// create with documents (up to about 60 MiB) must arrive within it.
	HTTPReadTimeout time.Duration `name:"http-read-timeout" json:"http_read_timeout"`
	// HTTPWriteTimeout bounds writing one response. WebSockets are not cut
	// by it: their upgrade clears the deadline and they keep their own.
	HTTPWriteTimeout time.Duration `name:"http-write-timeout" json:"http_write_timeout"`
	// HTTPIdleTimeout closes a keep-alive connection idle this long.
	HTTPIdleTimeout time.Duration `name:"http-idle-timeout" json:"http_idle_timeout"`
	// HTTPMaxConnsPerIP caps the open connections (WebSockets included) of
	// one client address, an IPv6 /64 counting as one; 0: no cap.
	// Loopback is exempt (a reverse proxy on this host); behind a proxy
	// on another host set 0 and cap in the proxy.
	HTTPMaxConnsPerIP int `name:"http-max-conns-per-ip" json:"http_max_conns_per_ip"`
	// HTTPMaxConns caps the open connections of the web server; 0: no cap.
	HTTPMaxConns int `name:"http-max-conns" json:"http_max_conns"`
	// PublicURL is the base URL in join links, as browsers reach the server
	// (https behind a TLS proxy). Default: http://<HTTPAddr>.
	PublicURL string `name:"public-url" json:"public_url"`
	// Secret is the BigBlueButton shared secret of the API. When empty a
	// random one is generated and printed once at start-up.
	Secret string `name:"secret" json:"secret"`
	// RedisURL selects the Redis store (redis://, rediss://, unix://); empty
	// uses the embedded in-memory store (one node).
	RedisURL string `name:"redis-url" json:"redis_url"`
	// DataDir holds uploaded files (presentations), one folder per meeting,
	// deleted when the meeting ends.
	DataDir string `name:"data-dir" json:"data_dir"`
	// LogSettings: the server log, its directory and retention (config_logs.go).
	LogSettings
	// SIPAddr is the listen address of the SIP gateway; empty: no dial-in.
	SIPAddr string `name:"sip-addr" json:"sip_addr"`
	// SIPTrunks are the networks of the operator's SIP trunk (comma-separated
	// CIDRs or addresses); calls from there need no password. With neither
	// trunks nor SIPUser only loopback may call.
	SIPTrunks string `name:"sip-trunks" json:"sip_trunks"`
	// SIPUser and SIPPassword let calls from elsewhere in with SIP digest
	// authentication (both or neither).
	SIPUser     string `name:"sip-user" json:"sip_user"`
	SIPPassword string `name:"sip-password" json:"sip_password"`
	// SIPLanguage is the language of the phone prompts: en or de.
	SIPLanguage string `name:"sip-language" json:"sip_language"`
	// SIPPublicIP is announced to the trunk in Contact and SDP (NAT 1:1);
	// required when SIPAddr listens on all interfaces.
	SIPPublicIP string `name:"sip-public-ip" json:"sip_public_ip"`
	// SIPRTPPorts is the UDP port range of call audio, one port per call
	// (default 20000-29999).
	SIPRTPPorts string `name:"sip-rtp-ports" json:"sip_rtp_ports"`
	// SIPTLSAddr, SIPTLSCert and SIPTLSKey serve SIP over TLS (sips) too,
	// with a PEM certificate and key.
	SIPTLSAddr string `name:"sip-tls-addr" json:"sip_tls_addr"`
	SIPTLSCert string `name:"sip-tls-cert" json:"sip_tls_cert"`
	SIPTLSKey  string `name:"sip-tls-key" json:"sip_tls_key"`
	// DialNumber is the phone number shown in rooms for dial-in (BBB dialNumber default).
	DialNumber string `name:"dial-number" json:"dial_number"`
	// ReconnectGrace keeps a dropped participant's place this long.
	ReconnectGrace time.Duration `name:"reconnect-grace" json:"reconnect_grace"`
	// StoreTTL is the TTL of every store key, refreshed while a meeting runs:
	// the longest a crashed node's data can outlive it.
	StoreTTL time.Duration `name:"store-ttl" json:"store_ttl"`
	// Demo creates a demo room at start-up and prints its links.
	Demo bool `name:"demo" json:"demo"`
	// RTCUDPPort is the one UDP port of all media (ICE UDP mux). 0 picks a
	// free port at start (fine on one machine); behind a firewall fix it,
	// e.g. 40000, and open it.
	RTCUDPPort int `name:"rtc-udp-port" json:"rtc_udp_port"`
	// RTCTCPPort is the ICE-over-TCP port, the fallback for networks that
	// block UDP. 0 picks a free port; -1 turns ICE-TCP off.
	RTCTCPPort int `name:"rtc-tcp-port" json:"rtc_tcp_port"`
	// PublicIP is announced in ICE candidates instead of the local address
	// (a server behind 1:1 NAT, e.g. a cloud VM).
	PublicIP string `name:"public-ip" json:"public_ip"`
	// TURN is the built-in TURN server for participants behind firewalls:
	// "off", "on" (port 3478) or a port number. Credentials are per session
	// and short-lived; no third-party TURN or STUN is ever used.
	TURN string `name:"turn" json:"turn"`
	// FetchAllowNetworks opens networks (comma-separated CIDRs or
	// addresses) to Aula's own outbound requests: document URLs of create,
	// avatars and the end callback. Anything not public (loopback, private,
	// link-local, CGNAT …) is refused otherwise, so that a replayed create
	// cannot make the server fetch from its intranet.
	FetchAllowNetworks string `name:"fetch-allow-networks" json:"fetch_allow_networks"`
	// VideoProviders are the external video sources a presenter may
	// share (comma-separated): file (MP4 and WebM files from any https
	// host), youtube (played from youtube-nocookie.com), vimeo (with
	// dnt=1), peertube (the hosts of VideoPeerTube); empty: none.
	VideoProviders string `name:"video-providers" json:"video_providers"`
	// VideoPeerTube are the PeerTube instances allowed (comma-separated
	// host names).
	VideoPeerTube string `name:"video-peertube" json:"video_peertube"`

	OpsSettings // TLS, proxy, metrics, drain, bind addresses (config_ops.go)

	// secretGenerated records that Secret was made up at start-up.
	secretGenerated bool
}

// Defaults returns the built-in configuration.
func Defaults() Config {
	return Config{
		HTTPAddr: "127.0.0.1:8080",
		// Long enough for 60 MiB at about 4 Mbit/s; a slow drip of a
		// body holds a connection no longer.
		HTTPReadTimeout:  2 * time.Minute,
		HTTPWriteTimeout: 2 * time.Minute,
		HTTPIdleTimeout:  2 * time.Minute,
		// A class of 30 behind one NAT address, each with a WebSocket and
		// a browser's six HTTP/1.1 connections, stays below it.
		HTTPMaxConnsPerIP: 256,
		HTTPMaxConns:      10000,
		VideoProviders:    "file,youtube,vimeo",
		DataDir:           defaultDataDir(),
		LogSettings:       defaultLogSettings(),
		ReconnectGrace:    time.Minute,
		StoreTTL:          10 * time.Minute,
		Demo:              true,
		TURN:              "off",
		SIPLanguage:       "en",
		OpsSettings:       opsDefaults(),
	}
}

func defaultDataDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return d + "/aula"
	}
	return os.TempDir() + "/aula"
}

// Load builds the configuration from defaults, file, environment and args.
func Load(args []string, getenv func(string) string) (Config, error) {
	cfg := Defaults()
	fs := flag.NewFlagSet("aula", flag.ContinueOnError)
	configFile := fs.String("config", getenv("AULA_CONFIG"), "JSON config file (env AULA_CONFIG)")
	// Flags are registered with empty defaults: only flags actually given
	// override the file and the environment.
	set := map[string]*string{}
	each(&cfg, func(name string, _ reflect.Value, help string) {
		set[name] = fs.String(name, "", help+" (env "+envName(name)+")")
	})
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			return cfg, fmt.Errorf("config file: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		var fc fileConfig
		if err := dec.Decode(&fc); err != nil {
			return cfg, fmt.Errorf("config file %s: %w", *configFile, err)
		}
		if err := fc.apply(&cfg); err != nil {
			return cfg, fmt.Errorf("config file %s: %w", *configFile, err)
		}
	}
	var errs []error
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	each(&cfg, func(name string, v reflect.Value, _ string) {
		if s := getenv(envName(name)); s != "" {
			if err := setValue(v, s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(name), err))
			}
		}
		if given[name] {
			if err := setValue(v, *set[name]); err != nil {
				errs = append(errs, fmt.Errorf("-%s: %w", name, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// fileConfig is the JSON file's shape: the same names, durations as strings.
type fileConfig map[string]any

func (fc fileConfig) apply(cfg *Config) error {
	known := map[string]reflect.Value{}
	each(cfg, func(name string, v reflect.Value, _ string) { known[strings.ReplaceAll(name, "-", "_")] = v })
	for k, raw := range fc {
		v, ok := known[k]
		if !ok {
			return fmt.Errorf("unknown setting %q", k)
		}
		if err := setValue(v, fmt.Sprint(raw)); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

func envName(flagName string) string {
	return "AULA_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

var fieldHelp = map[string]string{
	"http-addr":            "listen address of the web server",
	"public-url":           "base URL in join links (default from http-addr)",
	"secret":               "BigBlueButton API shared secret (generated when empty)",
	"redis-url":            "Redis URL; empty: embedded in-memory store",
	"data-dir":             "directory for uploaded files",
	"sip-addr":             "SIP gateway listen address; empty: no dial-in",
	"sip-trunks":           "SIP trunk networks allowed to call (comma-separated CIDRs)",
	"sip-user":             "SIP digest user for calls from outside the trunks",
	"sip-password":         "SIP digest password (with sip-user)",
	"sip-language":         "language of the phone prompts: en or de",
	"sip-public-ip":        "IP address announced to the SIP trunk (NAT 1:1)",
	"sip-rtp-ports":        "UDP port range of call audio, e.g. 20000-20999",
	"sip-tls-addr":         "SIP over TLS listen address",
	"sip-tls-cert":         "SIP over TLS certificate file (PEM)",
	"sip-tls-key":          "SIP over TLS key file (PEM)",
	"dial-number":          "dial-in phone number shown in rooms",
	"reconnect-grace":      "how long a dropped participant keeps their place",
	"store-ttl":            "TTL of every store key (refreshed while a meeting runs)",
	"demo":                 "create a demo room and print its links",
	"rtc-udp-port":         "UDP port of all media (0: a free port)",
	"rtc-tcp-port":         "ICE-TCP port (0: a free port, -1: off)",
	"public-ip":            "IP address announced to browsers (1:1 NAT)",
	"turn":                 "built-in TURN server: off, on (port 3478) or a port",
	"fetch-allow-networks": "non-public networks outbound requests may reach (comma-separated CIDRs)",
	"video-providers":      "external video sources presenters may share: file, youtube, vimeo, peertube (comma-separated)",
	"video-peertube":       "PeerTube instances allowed (comma-separated host names)",
}

// each calls f for every setting, the fields of embedded setting groups
// (LogSettings, OpsSettings …, each in its own file) included.
func each(cfg *Config, f func(name string, v reflect.Value, help string)) {
	eachField(reflect.ValueOf(cfg).Elem(), f)
}

func eachField(rv reflect.Value, f func(name string, v reflect.Value, help string)) {
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		sf := rt.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			eachField(rv.Field(i), f)
			continue
		}
		name := sf.Tag.Get("name")
		if name == "" {
			continue
		}
		help := sf.Tag.Get("help")
		if help == "" {
			help = fieldHelp[name]
		}
		f(name, rv.Field(i), help)
	}
}

func setValue(v reflect.Value, s string) error {
	switch v.Interface().(type) {
	case string:
		v.SetString(s)
	case bool:
		switch strings.ToLower(s) {
		case "true", "1", "yes", "on":
			v.SetBool(true)
		case "false", "0", "no", "off":
			v.SetBool(false)
		default:
			return fmt.Errorf("%q is not a boolean", s)
		}
	case int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(int64(n))
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 90s or 10m", s)
		}
		v.SetInt(int64(d))
	default:
		return fmt.Errorf("unsupported setting type %s", v.Type())
	}
	return nil
}

// Validate checks every setting and names the one that is wrong.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", envName(name), fmt.Sprintf(format, a...)))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("http-addr", "%q is not host:port", c.HTTPAddr)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"http-read-timeout", c.HTTPReadTimeout}, {"http-write-timeout", c.HTTPWriteTimeout}, {"http-idle-timeout", c.HTTPIdleTimeout}} {
		if d.v <= 0 {
			bad(d.name, "must be positive")
		}
	}
	if c.HTTPMaxConnsPerIP < 0 {
		bad("http-max-conns-per-ip", "must not be negative (0: no cap)")
	}
	if c.HTTPMaxConns < 0 {
		bad("http-max-conns", "must not be negative (0: no cap)")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("public-url", "%q must be an absolute http(s) URL without query", c.PublicURL)
		}
	}
	if c.Secret != "" && len(c.Secret) < 12 {
		bad("secret", "must be at least 12 characters")
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			bad("redis-url", "must be a redis://, rediss:// or unix:// URL")
		}
	}
	if c.DataDir == "" {
		bad("data-dir", "must not be empty")
	}
	c.LogSettings.validate(bad)
	if c.SIPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SIPAddr); err != nil {
			bad("sip-addr", "%q is not host:port", c.SIPAddr)
		}
	}
	c.validateSIP(bad)
	for _, r := range c.DialNumber {
		if !strings.ContainsRune("0123456789+-() /", r) {
			bad("dial-number", "%q may contain only digits, spaces and + - ( ) /", c.DialNumber)
			break
		}
	}
	if c.ReconnectGrace <= 0 {
		bad("reconnect-grace", "must be positive")
	}
	if c.StoreTTL < time.Minute {
		bad("store-ttl", "must be at least 1m")
	}
	if c.RTCUDPPort < 0 || c.RTCUDPPort > 65535 {
		bad("rtc-udp-port", "%d is not a port (0 picks a free one)", c.RTCUDPPort)
	}
	if c.RTCTCPPort < -1 || c.RTCTCPPort > 65535 {
		bad("rtc-tcp-port", "%d is not a port (0 picks a free one, -1 turns ICE-TCP off)", c.RTCTCPPort)
	}
	if c.PublicIP != "" {
		if ip := net.ParseIP(c.PublicIP); ip == nil || ip.IsUnspecified() {
			bad("public-ip", "%q is not an IP address", c.PublicIP)
		}
	}
	if _, _, err := c.turnPort(); err != nil {
		bad("turn", "%v", err)
	}
	if _, err := c.videoPolicy(); err != nil {
		bad("video-providers", "%v", err)
	}
	if _, err := web.ParseNetworks(c.FetchAllowNetworks); err != nil {
		bad("fetch-allow-networks", "%v", err)
	}
	c.validateOps(bad)
	return errors.Join(errs...)
}

// turnPort reads the TURN setting: enabled and on which port.
func (c *Config) turnPort() (on bool, port int, err error) {
	switch strings.ToLower(strings.TrimSpace(c.TURN)) {
	case "", "off", "false", "no", "0":
		return false, 0, nil
	case "on", "true", "yes":
		return true, 3478, nil
	}
	p, err := strconv.Atoi(strings.TrimSpace(c.TURN))
	if err != nil || p < 1 || p > 65535 {
		return false, 0, fmt.Errorf("%q must be off, on or a port number", c.TURN)
	}
	return true, p, nil
}

// videoPolicy reads the video settings.
func (c *Config) videoPolicy() (room.VideoPolicy, error) {
	var p room.VideoPolicy
	for _, v := range strings.Split(c.VideoProviders, ",") {
		switch v = strings.ToLower(strings.TrimSpace(v)); v {
		case "":
		case room.ProviderFile, room.ProviderYouTube, room.ProviderVimeo, room.ProviderPeerTube:
			p.Providers = append(p.Providers, v)
		default:
			return p, fmt.Errorf("%q is not file, youtube, vimeo or peertube", v)
		}
	}
	for _, h := range strings.Split(c.VideoPeerTube, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h == "" {
			continue
		}
		if strings.ContainsAny(h, "/:@ ") {
			return p, fmt.Errorf("PeerTube host %q: give a host name only", h)
		}
		p.PeerTubeHosts = append(p.PeerTubeHosts, h)
	}
	return p, nil
}
