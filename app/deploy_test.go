package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"aula/render"
)

// The files in deploy/ are what operators copy. These tests load them as
// the server would, and hold them to each other, to the code and to
// docs/operations.md, so that none can drift.

// deploySecret fills the secret the examples leave empty.
const deploySecret = "deploy-test-secret-4f2c9a71"

func deployPath(name string) string { return filepath.Join("..", "deploy", name) }

func readDeploy(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(deployPath(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// envLine is a setting in aula.env.example: set, or commented out.
var envLine = regexp.MustCompile(`^(#?)(AULA_[A-Z0-9_]+)=(.*)$`)

// sourceEnv sources file with a POSIX shell, as `set -a; . file` does,
// in an empty environment, and returns the AULA_ variables it set.
func sourceEnv(t *testing.T, file string) map[string]string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sh, "-n", abs).CombinedOutput(); err != nil {
		t.Fatalf("sh -n %s: %v\n%s", file, err, out)
	}
	cmd := exec.Command(sh, "-c", `set -a; . "$1"; exec env`, "sh", abs)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sourcing %s: %v", file, err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "AULA_") {
			vars[k] = v
		}
	}
	return vars
}

// withSecret is getenv over vars, with the test secret where it is empty.
func withSecret(vars map[string]string) func(string) string {
	return func(k string) string {
		if k == "AULA_SECRET" && vars[k] == "" {
			return deploySecret
		}
		return vars[k]
	}
}

// settingsByEnv maps each setting's environment name to its field in cfg.
func settingsByEnv(cfg *Config) map[string]reflect.Value {
	m := map[string]reflect.Value{}
	each(cfg, func(name string, v reflect.Value, _ string) { m[envName(name)] = v })
	return m
}

// loadEnvExample loads deploy/aula.env.example as the service gets it.
func loadEnvExample(t *testing.T) (Config, map[string]string) {
	t.Helper()
	vars := sourceEnv(t, deployPath("aula.env.example"))
	cfg, err := Load(nil, withSecret(vars))
	if err != nil {
		t.Fatalf("deploy/aula.env.example does not load: %v", err)
	}
	return cfg, vars
}

// TestDeployEnvExample: the example environment file sources in a POSIX
// shell and loads; it names every setting once, nothing else; a commented
// line shows the built-in default, so uncommenting every one of them
// changes nothing.
func TestDeployEnvExample(t *testing.T) {
	cfg, vars := loadEnvExample(t)
	if vars["AULA_SECRET"] != "" {
		t.Errorf("the example sets a secret (%q): leave it empty, to be generated", vars["AULA_SECRET"])
	}
	if vars["AULA_DIAL_NUMBER"] == "" && cfg.DialNumber != "" {
		t.Errorf("dial number %q from nowhere", cfg.DialNumber)
	}

	text := readDeploy(t, "aula.env.example")
	defaults := Defaults()
	fields := settingsByEnv(&defaults)
	seen := map[string]int{}
	var uncommented strings.Builder
	for n, line := range strings.Split(text, "\n") {
		m := envLine.FindStringSubmatch(line)
		if m == nil {
			uncommented.WriteString(line + "\n")
			continue
		}
		name, value := m[2], m[3]
		seen[name]++
		field, ok := fields[name]
		if !ok {
			t.Errorf("line %d: %s is not a setting", n+1, name)
			continue
		}
		if m[1] == "#" {
			value = strings.Trim(value, `"`)
			got := reflect.New(field.Type()).Elem()
			if value != "" {
				if err := setValue(got, value); err != nil {
					t.Errorf("line %d: %s: %v", n+1, name, err)
					continue
				}
			}
			if !reflect.DeepEqual(got.Interface(), field.Interface()) {
				t.Errorf("line %d: #%s=%s, but the default is %v: a commented line must show the default",
					n+1, name, value, field.Interface())
			}
		}
		uncommented.WriteString(strings.TrimPrefix(line, "#") + "\n")
	}
	for name := range fields {
		if seen[name] != 1 {
			t.Errorf("%s appears %d times in deploy/aula.env.example (once, set or commented)", name, seen[name])
		}
	}

	// Every commented line uncommented: sources, and loads the same.
	all := filepath.Join(t.TempDir(), "all.env")
	if err := os.WriteFile(all, []byte(uncommented.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg2, err := Load(nil, withSecret(sourceEnv(t, all)))
	if err != nil {
		t.Fatalf("with every line uncommented: %v", err)
	}
	if !reflect.DeepEqual(cfg, cfg2) {
		t.Errorf("uncommenting the defaults changed the configuration:\n%+v\n%+v", cfg, cfg2)
	}
}

// TestDeployJSONExample: the JSON form loads (unknown keys would fail),
// names every setting but the secret (which belongs in the env file,
// 0640), and says the same as the env example.
func TestDeployJSONExample(t *testing.T) {
	envCfg, _ := loadEnvExample(t)
	jsonCfg, err := Load([]string{"-config", deployPath("aula.json.example")},
		withSecret(map[string]string{}))
	if err != nil {
		t.Fatalf("deploy/aula.json.example does not load: %v", err)
	}
	if !reflect.DeepEqual(envCfg, jsonCfg) {
		t.Errorf("aula.json.example and aula.env.example differ:\njson %+v\nenv  %+v", jsonCfg, envCfg)
	}
	var keys map[string]any
	if err := json.Unmarshal([]byte(readDeploy(t, "aula.json.example")), &keys); err != nil {
		t.Fatal(err)
	}
	each(&jsonCfg, func(name string, _ reflect.Value, _ string) {
		key := strings.ReplaceAll(name, "-", "_")
		_, ok := keys[key]
		switch {
		case key == "secret" && ok:
			t.Error("aula.json.example holds a secret: keep it in the env file (0640)")
		case key != "secret" && !ok:
			t.Errorf("aula.json.example lacks %q", key)
		}
	})
}

// unit is a parsed systemd unit: section → key → values in order.
type unit map[string]map[string][]string

func readUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, section := unit{}, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: %q", path, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// one returns the single value of a [Service] directive.
func (u unit) one(t *testing.T, key string) string {
	t.Helper()
	v := u["Service"][key]
	if len(v) != 1 {
		t.Errorf("aula.service: %s set %d times, want once", key, len(v))
		return ""
	}
	return v[0]
}

// TestDeployUnit: the systemd unit's hardening, its paths matching the
// env example and the docs, and a stop timeout that lets the drain end.
func TestDeployUnit(t *testing.T) {
	u := readUnit(t, deployPath("aula.service"))
	for key, want := range map[string]string{
		"User": "aula", "Group": "aula",
		"EnvironmentFile": "/etc/aula/aula.env",
		"StateDirectory":  "aula", "LogsDirectory": "aula",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"NoNewPrivileges": "yes", "LockPersonality": "yes",
		"KillSignal": "SIGTERM", "Restart": "on-failure",
		"CapabilityBoundingSet":   "CAP_NET_BIND_SERVICE",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
		"SystemCallFilter":        "@system-service",
	} {
		if got := u.one(t, key); got != want {
			t.Errorf("aula.service: %s=%s, want %s", key, got, want)
		}
	}
	for _, v := range u["Service"]["AmbientCapabilities"] {
		if v != "CAP_NET_BIND_SERVICE" {
			t.Errorf("aula.service: AmbientCapabilities=%s", v)
		}
	}
	if _, ok := u["Service"]["DynamicUser"]; ok {
		t.Error("aula.service: DynamicUser set; the docs and env file's group assume the user aula")
	}
	// wazero's compiler needs memory it can make executable (see
	// TestWazeroCompilerNeedsExecutableMemory).
	if v := u["Service"]["MemoryDenyWriteExecute"]; len(v) > 0 && v[len(v)-1] != "no" {
		t.Error("aula.service: MemoryDenyWriteExecute would put pdfium on wazero's interpreter, 20 times slower")
	}

	cmdline := strings.Fields(u.one(t, "ExecStart"))
	if len(cmdline) == 0 || cmdline[0] != "/usr/local/bin/aula" {
		t.Errorf("ExecStart=%v, want /usr/local/bin/aula ...", cmdline)
	}
	if !strings.Contains(u.one(t, "ExecStart"), "-demo=false") {
		t.Error("ExecStart without -demo=false")
	}

	// The directories systemd makes are the ones Aula is told to use.
	env, _ := loadEnvExample(t)
	dirs := map[string]string{}
	for _, v := range u["Service"]["Environment"] {
		for _, kv := range strings.Fields(v) {
			k, v, _ := strings.Cut(kv, "=")
			dirs[k] = v
		}
	}
	for _, c := range []struct{ env, unitDir, want, got string }{
		{"AULA_DATA_DIR", "/var/lib/" + u.one(t, "StateDirectory"), dirs["AULA_DATA_DIR"], env.DataDir},
		{"AULA_LOG_DIR", "/var/log/" + u.one(t, "LogsDirectory"), dirs["AULA_LOG_DIR"], env.LogDir},
	} {
		if c.want != c.unitDir || c.got != c.unitDir {
			t.Errorf("%s: unit directory %s, unit Environment= %q, env example %q", c.env, c.unitDir, c.want, c.got)
		}
	}

	// systemd waits for the drain (default) and the wipe after it.
	stop, err := time.ParseDuration(u.one(t, "TimeoutStopSec"))
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v (write it as Go and systemd both read it, e.g. 2h5m)", err)
	}
	if drain := env.DrainTimeout; stop < drain+time.Minute {
		t.Errorf("TimeoutStopSec=%v: systemd kills Aula before a drain of %v and the wipe after it", stop, drain)
	}

	// The docs give the same paths and values.
	docs := readDocs(t)
	for _, s := range []string{
		"/etc/aula/aula.env", "/usr/local/bin/aula", "/var/lib/aula", "/var/log/aula",
		"TimeoutStopSec=" + u.one(t, "TimeoutStopSec"), "0640",
		"adduser --system --group --home /var/lib/aula --no-create-home aula",
	} {
		if !strings.Contains(docs, s) {
			t.Errorf("docs/operations.md does not mention %q", s)
		}
	}
	if !strings.Contains(readDeploy(t, "aula.service"), "adduser --system --group --home /var/lib/aula --no-create-home aula") {
		t.Error("aula.service does not say how the user is made")
	}
	if err := RequireSecret(Config{}, func(string) string { return "x" }); err == nil || !strings.Contains(err.Error(), u.one(t, "EnvironmentFile")) {
		t.Errorf("the refusal to start without a secret names another file: %v", err)
	}

	verifyUnit(t)
}

// verifyUnit runs systemd-analyze verify on the unit, where installed,
// with ExecStart pointing at a program that exists here; any complaint
// fails.
func verifyUnit(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: unit not verified by systemd")
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(readDeploy(t, "aula.service"), "/usr/local/bin/aula", self)
	p := filepath.Join(t.TempDir(), "aula.service")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", "--man=no", p).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func readDocs(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// composeFile is what the test reads of deploy/compose.yaml.
type composeFile struct {
	Services map[string]struct {
		Build           any               `yaml:"build"`
		Image           string            `yaml:"image"`
		User            string            `yaml:"user"`
		EnvFile         []string          `yaml:"env_file"`
		Environment     map[string]any    `yaml:"environment"`
		Ports           []string          `yaml:"ports"`
		Volumes         []string          `yaml:"volumes"`
		Command         []string          `yaml:"command"`
		Restart         string            `yaml:"restart"`
		StopSignal      string            `yaml:"stop_signal"`
		StopGracePeriod string            `yaml:"stop_grace_period"`
		CapDrop         []string          `yaml:"cap_drop"`
		Sysctls         map[string]string `yaml:"sysctls"`
	} `yaml:"services"`
}

// portSet is published ports: "udp/40000" → true.
type portSet map[string]bool

func (p portSet) has(proto string, port int) bool { return p[proto+"/"+strconv.Itoa(port)] }

// TestDeployCompose: Aula and Redis in compose.yaml: the secret only in
// the env file, Redis without persistence or a published port, every
// port Aula is configured for published under the same number, a stop
// grace period for the drain, no root.
func TestDeployCompose(t *testing.T) {
	var c composeFile
	if err := yaml.Unmarshal([]byte(readDeploy(t, "compose.yaml")), &c); err != nil {
		t.Fatal(err)
	}
	aula, redis := c.Services["aula"], c.Services["redis"]
	if aula.Build == nil || !strings.Contains(fmt.Sprint(aula.Build), "deploy/Dockerfile") {
		t.Errorf("aula is not built from deploy/Dockerfile: %v", aula.Build)
	}

	// Redis: nothing on disk, reachable from the project's network only.
	if got := strings.Join(redis.Command, " "); !regexp.MustCompile(`--save  --appendonly no$`).MatchString(got) {
		t.Errorf("redis command %q: want --save \"\" --appendonly no", redis.Command)
	}
	if len(redis.Ports) > 0 {
		t.Errorf("redis publishes %v", redis.Ports)
	}

	// Aula's settings: env file (the example, a secret filled in, the
	// host's name and address) under compose's own.
	if len(aula.EnvFile) != 1 || aula.EnvFile[0] != "aula.env" {
		t.Errorf("aula env_file %v, want [aula.env]", aula.EnvFile)
	}
	vars := sourceEnv(t, deployPath("aula.env.example"))
	vars["AULA_ACME_DOMAINS"], vars["AULA_PUBLIC_IP"] = "meet.example.org", "203.0.113.10"
	for k, v := range aula.Environment {
		if k == "AULA_SECRET" {
			t.Error("compose.yaml sets AULA_SECRET: it belongs in aula.env")
		}
		vars[k] = fmt.Sprint(v)
	}
	cfg, err := Load(nil, withSecret(vars))
	if err != nil {
		t.Fatalf("compose.yaml's configuration does not load: %v", err)
	}

	ports := portSet{}
	for _, p := range aula.Ports {
		spec, proto, _ := strings.Cut(p, "/")
		parts := strings.Split(spec, ":")
		if len(parts) < 2 || parts[len(parts)-1] != parts[len(parts)-2] {
			t.Errorf("port %q: publish the number Aula listens on (it tells browsers and the trunk that one)", p)
			continue
		}
		lo, hi, _ := strings.Cut(parts[len(parts)-1], "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if hi != "" {
			b, _ = strconv.Atoi(hi)
		}
		for n := a; n <= b; n++ {
			ports[proto+"/"+strconv.Itoa(n)] = true
		}
	}
	port := func(addr string) int {
		_, p, _ := strings.Cut(addr, ":")
		n, _ := strconv.Atoi(p)
		return n
	}
	_, turnPort, _ := cfg.turnPort()
	want := []struct {
		what, proto string
		port        int
	}{
		{"AULA_HTTP_ADDR", "tcp", port(cfg.HTTPAddr)},
		{"AULA_HTTP_REDIRECT_ADDR", "tcp", port(cfg.HTTPRedirectAddr)},
		{"AULA_TURN_TLS_ADDR", "tcp", port(cfg.TURNTLSAddr)},
		{"AULA_RTC_UDP_PORT", "udp", cfg.RTCUDPPort},
		{"AULA_RTC_TCP_PORT", "tcp", cfg.RTCTCPPort},
		{"AULA_TURN", "udp", turnPort},
		{"AULA_TURN", "tcp", turnPort},
		{"SIP", "udp", 5060},
		{"SIP", "tcp", 5060},
	}
	lo, hi, err := parsePortRange(cfg.SIPRTPPorts)
	if err != nil || cfg.SIPRTPPorts == "" {
		t.Fatalf("AULA_SIP_RTP_PORTS %q: %v (compose must fix it to the published range)", cfg.SIPRTPPorts, err)
	}
	for n := lo; n <= hi; n++ {
		want = append(want, struct {
			what, proto string
			port        int
		}{"AULA_SIP_RTP_PORTS", "udp", n})
	}
	for _, w := range want {
		if w.port <= 0 || !ports.has(w.proto, w.port) {
			t.Errorf("%s: %s port %d is not published", w.what, w.proto, w.port)
		}
	}

	// Volumes where the data and log directories are.
	for _, dir := range []string{cfg.DataDir, cfg.LogDir} {
		found := false
		for _, v := range aula.Volumes {
			parts := strings.Split(strings.Fields(v)[0], ":")
			found = found || (len(parts) >= 2 && parts[1] == dir)
		}
		if !found {
			t.Errorf("no volume at %s", dir)
		}
	}

	// Stopping: SIGTERM, and time for the drain.
	grace, err := time.ParseDuration(aula.StopGracePeriod)
	if err != nil || aula.StopSignal != "SIGTERM" || grace < cfg.DrainTimeout+time.Minute {
		t.Errorf("stop_signal %q, stop_grace_period %q (%v): Docker must wait for a drain of %v",
			aula.StopSignal, aula.StopGracePeriod, err, cfg.DrainTimeout)
	}
	for name, s := range map[string]string{"aula": aula.Restart, "redis": redis.Restart} {
		if s == "" || s == "no" {
			t.Errorf("%s: no restart policy", name)
		}
	}
	if u := aula.User; u == "" || u == "root" || strings.HasPrefix(u, "0:") || u == "0" {
		t.Errorf("aula runs as %q", u)
	}

	// The image: static, with CA certificates, not root, and the same
	// directories.
	df := readDeploy(t, "Dockerfile")
	for _, s := range []string{"CGO_ENABLED=0", "ca-certificates", "USER aula", "-slim",
		"install -d -m 0700 -o aula -g aula " + cfg.DataDir + " " + cfg.LogDir,
		"uid 10001", "AULA_DATA_DIR=" + cfg.DataDir, "AULA_LOG_DIR=" + cfg.LogDir} {
		if !strings.Contains(df, s) {
			t.Errorf("Dockerfile lacks %q", s)
		}
	}
	if aula.User != "10001:10001" {
		t.Errorf("compose user %q, the image's aula is 10001:10001", aula.User)
	}
}

// TestDeployProxyExamples: nginx and Caddy pass the largest request,
// WebSockets and the client's address to the address Aula listens on,
// and keep /metrics to the monitoring host.
func TestDeployProxyExamples(t *testing.T) {
	cfg, _ := loadEnvExample(t)
	upstream := cfg.HTTPAddr
	largest := int64(2*render.DefaultMaxBytes + 1<<20)

	ngx := readDeploy(t, "nginx.conf.example")
	for _, s := range []string{
		"listen 443 ssl", "listen [::]:443 ssl", "listen 80;", "listen [::]:80;",
		"return 301 https://", "proxy_pass http://" + upstream + ";",
		"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
		"proxy_set_header X-Forwarded-Proto https;",
		"proxy_set_header Upgrade $http_upgrade;", "proxy_http_version 1.1;",
		"location = /metrics {", "deny all;", "access_log off;",
	} {
		if !strings.Contains(ngx, s) {
			t.Errorf("nginx.conf.example lacks %q", s)
		}
	}
	if m := regexp.MustCompile(`client_max_body_size (\d+)m;`).FindStringSubmatch(ngx); m == nil {
		t.Error("nginx.conf.example: no client_max_body_size")
	} else if n, _ := strconv.ParseInt(m[1], 10, 64); n<<20 < largest {
		t.Errorf("nginx client_max_body_size %sm < %d bytes", m[1], largest)
	}
	// Aula pings WebSockets every 20 s; nginx must not cut them before.
	if m := regexp.MustCompile(`proxy_read_timeout (\d+)s;`).FindStringSubmatch(ngx); m == nil {
		t.Error("nginx.conf.example: no proxy_read_timeout")
	} else if n, _ := strconv.Atoi(m[1]); n < 60 {
		t.Errorf("proxy_read_timeout %ss is too short for WebSockets", m[1])
	}

	caddy := readDeploy(t, "Caddyfile.example")
	for _, s := range []string{"reverse_proxy " + upstream, "@metrics path /metrics", "respond @outside 403"} {
		if !strings.Contains(caddy, s) {
			t.Errorf("Caddyfile.example lacks %q", s)
		}
	}
	if m := regexp.MustCompile(`max_size (\d+)MiB`).FindStringSubmatch(caddy); m == nil {
		t.Error("Caddyfile.example: no request_body max_size in MiB")
	} else if n, _ := strconv.ParseInt(m[1], 10, 64); n<<20 < largest {
		t.Errorf("Caddy max_size %sMiB < %d bytes", m[1], largest)
	}
	if strings.Contains(caddy, "\n\tlog") {
		t.Error("Caddyfile.example turns on Caddy's access log (full client addresses)")
	}
}

// TestDocsLinks: every relative link in the README and docs/ leads to a
// file of the repository.
func TestDocsLinks(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	files = append(files, filepath.Join("..", "README.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", f, m[1])
			}
		}
	}
}
