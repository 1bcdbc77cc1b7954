package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestUnknownCommandIsRefused(t *testing.T) {
	var out, errb bytes.Buffer
	err := run([]string{"verison"}, &out, &errb)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), `"verison"`) {
		t.Fatalf("err = %v, want a usage error naming the word", err)
	}
	if !strings.Contains(errb.String(), "version") || !strings.Contains(errb.String(), "serve") {
		t.Errorf("usage not shown: %q", errb.String())
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"version"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "aula ") || !strings.Contains(out.String(), "go1.") {
		t.Errorf("version = %q", out.String())
	}
}
