package main

import (
	"bytes"
	"strings"
	"testing"
)

// Bad flags are refused with exit code 2 before anything is dialled.
func TestFlagsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"-calls", "0", "-secret", "s"},
		{"-calls", "2", "-speakers", "3", "-secret", "s"},
		{"-sip", "nowhere", "-secret", "s"},
		{"-calls", "1"}, // no secret
		{"-duration", "0s", "-secret", "s"},
		{"stray"},
	} {
		var out, errw bytes.Buffer
		code, err := run(args, &out, &errw, func(string) string { return "" })
		if code != 2 || err == nil {
			t.Errorf("%v: code %d, err %v; want 2 and an error", args, code, err)
		}
		if strings.Contains(out.String(), "|") {
			t.Errorf("%v: printed a result", args)
		}
	}
}
