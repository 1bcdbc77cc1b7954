package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"aula/notice"
)

// noEnv keeps the developer's AULA_* variables out of the tests.
func noEnv(string) string { return "" }

// TestNoticeCommand: the command reads the server's own flags and
// environment, so the notice describes the configuration given.
func TestNoticeCommand(t *testing.T) {
	env := map[string]string{"AULA_DIAL_NUMBER": "+49 30 1234567"}
	for _, c := range []struct {
		args []string
		want []string
		not  []string
	}{
		{
			args: []string{"-lang", "de", "-sip-addr", "127.0.0.1:5060", "-video-providers", "vimeo", "--turn=on"},
			// No AULA_LOG_DIR: no personal data is logged, the number neither.
			want: []string{"## Videokonferenzen (Aula)", "### Telefoneinwahl", "`+49 30 1234567`", "Vimeo", "TURN-Server, der",
				"Rufnummer** wird überhaupt nicht protokolliert", "Server keine personenbezogenen Daten"},
			not: []string{"YouTube", "Keine Inhalte Dritter", "wird nur in das Serverprotokoll"},
		},
		{
			args: []string{"-video-providers=", "--lang=en"},
			want: []string{"## Video conferences (Aula)", "### No third-party content",
				"the server logs no\n  personal data: no IP address", "only operational messages without personal data"},
			not: []string{"Phone dial-in", "TURN server that", "system logs are kept"},
		},
	} {
		var out, errb bytes.Buffer
		if err := writeNotice(c.args, func(k string) string { return env[k] }, &out, &errb); err != nil {
			t.Fatalf("%q: %v (stderr %q)", c.args, err, errb.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%q: missing %q", c.args, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(out.String(), w) {
				t.Errorf("%q: has %q", c.args, w)
			}
		}
	}
}

func TestNoticeCommandNeedsLanguage(t *testing.T) {
	for _, args := range [][]string{nil, {"-redis-url", "redis://localhost"}, {"-lang"}, {"--lang="}} {
		var out, errb bytes.Buffer
		err := writeNotice(args, noEnv, &out, &errb)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "-lang de") {
			t.Errorf("%q: err = %v, want a usage error asking for -lang", args, err)
		}
		if out.Len() != 0 || !strings.Contains(errb.String(), "usage: aula privacy notice") {
			t.Errorf("%q: stdout %q, stderr %q", args, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	if err := writeNotice([]string{"-lang", "fr"}, noEnv, &out, &errb); !errors.Is(err, notice.ErrUnknownLanguage) || out.Len() != 0 {
		t.Errorf("fr: err = %v, stdout %d bytes", err, out.Len())
	}
	if err := writeNotice([]string{"-h"}, noEnv, &out, &errb); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err = %v", err)
	}
}

// TestNoticeCommandBadConfig: a configuration the server would refuse
// gives no notice either, with the setting named.
func TestNoticeCommandBadConfig(t *testing.T) {
	var out, errb bytes.Buffer
	err := writeNotice([]string{"-lang", "en", "-turn", "sometimes"}, noEnv, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "AULA_TURN") || out.Len() != 0 {
		t.Errorf("err = %v, stdout %d bytes", err, out.Len())
	}
}
