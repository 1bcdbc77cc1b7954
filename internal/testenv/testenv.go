// Package testenv finds the real tools the tests need (redis-server,
// Chromium, SIP phones). Outside CI a missing tool skips the test; under
// CI=true it fails it, so a broken install can never pass silently.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run under CI (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// missing fails under CI and skips elsewhere.
func missing(t testing.TB, what string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is required under CI but missing; run the README test command (scripts/test)", what)
	}
	t.Skipf("%s missing; run scripts/test to install and start it", what)
}

// RedisURL returns the URL of the real redis-server that scripts/test
// started (AULA_TEST_REDIS_URL).
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("AULA_TEST_REDIS_URL")
	if u == "" {
		missing(t, "a redis-server (AULA_TEST_REDIS_URL)")
	}
	return u
}

// Tool returns the path of an executable on PATH.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name)
	}
	return p
}

// Chromium returns the browser binary (AULA_TEST_CHROMIUM or chromium on PATH).
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("AULA_TEST_CHROMIUM"); p != "" {
		return p
	}
	return Tool(t, "chromium")
}

// Dir returns a directory inside the repository's test fixtures by env
// name (e.g. AULA_TEST_NODE_MODULES for the npm BBB client).
func Env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		missing(t, name)
	}
	return v
}
