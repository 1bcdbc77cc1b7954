package sfu

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestPionLogsWithholdCredentialsAndCloseNoise(t *testing.T) {
	var buf bytes.Buffer
	l := pionLogs{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}.NewLogger("ice")
	l.Debugf("Started agent: remoteUfrag: %q, remotePwd: %q", "abcd", "s3cretpassw0rd")
	l.Warnf("Failed to read from candidate: %v", "io: read/write on closed pipe")
	l.Errorf("real trouble")
	out := buf.String()
	if strings.Contains(out, "s3cretpassw0rd") {
		t.Fatalf("ICE password logged:\n%s", out)
	}
	if !strings.Contains(out, `level=DEBUG msg="Failed to read`) {
		t.Errorf("close noise not demoted to debug:\n%s", out)
	}
	if !strings.Contains(out, `level=ERROR msg="real trouble"`) {
		t.Errorf("errors not kept:\n%s", out)
	}
}
