package app

import (
	"errors"
	"strings"
)

// exampleSecrets are shared secrets printed in Aula's examples and
// documentation, and the well-known ones of BigBlueButton's own docs and
// test servers that get copied from tutorials. Everyone can read them, so
// a server using one lets anyone create and join meetings. A test greps
// deploy/, docs/ and the README for secrets and fails when one is missing
// here.
var exampleSecrets = []string{
	"change-me-to-a-long-random-secret", // earlier deploy/aula.env.example and compose.yaml (docs/operations.md names it)
	"perf-secret-0123456",               // an earlier docs/performance.md
	// BigBlueButton's documentation and public test server.
	"8cd8ef52e8e101574e400365b55e11a6",
	"639259d4-9dd8-4b25-bf01-95f9567eaf4b",
	"330a8b08c3b4c61533e1d0c5ce1ac88f",
}

// isExampleSecret reports whether s is one of exampleSecrets.
func isExampleSecret(s string) bool {
	for _, e := range exampleSecrets {
		if strings.EqualFold(strings.TrimSpace(s), e) {
			return true
		}
	}
	return false
}

// ErrNoSecret: no shared secret is configured and Aula runs under a
// service manager, where a secret made up at each start would change with
// every restart and land in the journal.
var ErrNoSecret = errors.New("AULA_SECRET is not set")

// underSystemd reports whether a service manager started the process:
// systemd sets INVOCATION_ID for every unit and JOURNAL_STREAM when its
// output goes to the journal.
func underSystemd(getenv func(string) string) bool {
	return getenv("INVOCATION_ID") != "" || getenv("JOURNAL_STREAM") != ""
}

// RequireSecret refuses to serve without a configured secret under
// systemd: generating one (fine for `go run`) would give the platform a
// new secret at every restart and print it into the journal each time.
func RequireSecret(cfg Config, getenv func(string) string) error {
	if cfg.Secret != "" || !underSystemd(getenv) {
		return nil
	}
	return errors.New(ErrNoSecret.Error() + ": under systemd Aula does not make one up at every start. " +
		"Generate one (openssl rand -hex 24), put AULA_SECRET=<it> into /etc/aula/aula.env " +
		"(mode 0640, owner root, group aula) and give it to the course platform")
}
