package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	env := func(string) string { return "" }
	for _, tc := range []struct {
		args         string
		audio, video int
		layer        string
		err          string
	}{
		{args: "-publishers 3", audio: 3, layer: "h"},
		{args: "-audio-publishers 5 -video-publishers 2", audio: 5, video: 2, layer: "h"},
		{args: "-publishers 4 -video-publishers 1", audio: 3, video: 1, layer: "h"},
		{args: "-publishers 4 -audio-publishers 1", audio: 1, video: 3, layer: "h"},
		{args: "-video-publishers 2 -video-layer none", video: 2, layer: ""},
		{args: "", audio: 1, layer: "h"},
		{args: "-publishers 4 -audio-publishers 1 -video-publishers 1", err: "is not"},
		{args: "-subscribers many", err: "invalid value"},
		{args: "extra", err: "unexpected argument"},
	} {
		o, _, err := parseFlags(strings.Fields(tc.args), io.Discard, env)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one with %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if o.AudioPublishers != tc.audio || o.VideoPublishers != tc.video || o.VideoLayer != tc.layer {
			t.Errorf("%q: audio %d video %d layer %q, want %d %d %q", tc.args, o.AudioPublishers, o.VideoPublishers, o.VideoLayer, tc.audio, tc.video, tc.layer)
		}
	}
}

// TestRunRefusesBadOptions: the command stops with a clear error and exit
// code 2 before touching any server.
func TestRunRefusesBadOptions(t *testing.T) {
	var out strings.Builder
	code, err := run([]string{"-url", "ftp://x", "-secret", "s"}, &out, io.Discard, func(string) string { return "" })
	if code != 2 || err == nil || !strings.Contains(err.Error(), "url must be") {
		t.Errorf("code %d, error %v", code, err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q for a refused run", out.String())
	}
}
