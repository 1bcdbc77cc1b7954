package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	env := func(k string) string {
		if k == "AULA_SECRET" {
			return "from-env"
		}
		return ""
	}
	o, ef, err := parseFlags(strings.Fields("-rate 400 -editors 40 -duration 30s -json /tmp/x.json -header=false"), io.Discard, env)
	if err != nil {
		t.Fatal(err)
	}
	if o.Rate != 400 || o.Editors != 40 || o.Duration != 30*time.Second || o.Secret != "from-env" ||
		ef.JSONPath != "/tmp/x.json" || ef.Header || o.MaxText != 20000 {
		t.Errorf("parsed %+v %+v", o, ef)
	}
	for args, want := range map[string]string{
		"-rate fast": "invalid value",
		"extra":      "unexpected argument",
	} {
		if _, _, err := parseFlags(strings.Fields(args), io.Discard, env); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one with %q", args, err, want)
		}
	}
}

// TestRunRefusesBadOptions: the command stops with a clear error and exit
// code 2 before touching any server.
func TestRunRefusesBadOptions(t *testing.T) {
	var out strings.Builder
	for _, args := range []string{"-url ftp://x -secret s", "-secret s -editors 1", "-secret s -editors 3 -rate 500", "-secret s -max-text 10"} {
		code, err := run(strings.Fields(args), &out, io.Discard, func(string) string { return "" })
		if code != 2 || err == nil {
			t.Errorf("%q: code %d, error %v", args, code, err)
		}
	}
	if out.Len() != 0 {
		t.Errorf("printed %q for refused runs", out.String())
	}
}
