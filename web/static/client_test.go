package static

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"aula/internal/testenv"
)

// TestProtocolModule runs testdata/protocol_test.mjs under node: the
// client's connection logic (requests, reconnect, final closes) without a
// browser. protocol.js is copied as an .mjs file so node loads it as an ES
// module whatever its version.
func TestProtocolModule(t *testing.T) {
	nodeTest(t, "protocol_test.mjs", map[string]string{
		"js/protocol.js":             "protocol.mjs",
		"testdata/protocol_test.mjs": "protocol_test.mjs",
	}, nil)
}

// TestMediaModule runs testdata/media_test.mjs under node: publish and
// subscribe negotiation of js/media.js against a fake RTCPeerConnection.
func TestMediaModule(t *testing.T) {
	nodeTest(t, "media_test.mjs", map[string]string{
		"js/protocol.js":          "protocol.js",
		"js/media.js":             "media.js",
		"testdata/media_test.mjs": "media_test.mjs",
	}, nil)
}

// TestI18nModule runs testdata/i18n_test.mjs under node: the
// translation layer (language choice, placeholders, plurals, fallback).
func TestI18nModule(t *testing.T) {
	nodeTest(t, "i18n_test.mjs", map[string]string{
		"js/i18n.js":             "i18n.js",
		"testdata/i18n_test.mjs": "i18n_test.mjs",
	}, nil)
}

// TestBoardModule runs testdata/board_test.mjs under node: the
// whiteboard's state and geometry (js/board.js) with the vendored
// perfect-freehand, laid out as in web/static so the import resolves.
func TestBoardModule(t *testing.T) {
	nodeTest(t, "board_test.mjs", map[string]string{
		"js/board.js":                       "js/board.js",
		"vendor/perfect-freehand/index.mjs": "vendor/perfect-freehand/index.mjs",
		"testdata/board_test.mjs":           "board_test.mjs",
	}, nil)
}

// TestEmbeddedClient: the binary carries the whole client.
func TestEmbeddedClient(t *testing.T) {
	for _, name := range []string{"index.html", "css/app.css", "js/app.js", "js/protocol.js", "js/ui/dom.js", "js/ui/chat.js", "js/media.js",
		"js/i18n.js", "js/store.js", "js/localmedia.js", "js/ui/actionbar.js", "js/ui/devicecheck.js", "js/ui/ended.js",
		"js/ui/icons.js", "js/ui/layout.js", "js/ui/participants.js", "js/ui/sound.js", "js/ui/stage.js",
		"i18n/en.json", "i18n/de.json", "favicon.svg"} {
		if _, err := FS.ReadFile(name); err != nil {
			t.Errorf("%s not embedded: %v", name, err)
		}
	}
	if _, err := FS.ReadFile("testdata/protocol_test.mjs"); err == nil {
		t.Error("test files must not be embedded")
	}
}

// nodeTest runs script under node --test in a fresh directory holding
// files (a path in web/static → its name there, folders made as needed)
// and extra (name → content), with a package.json that makes .js files ES
// modules whatever node's version.
func nodeTest(t *testing.T, script string, files map[string]string, extra map[string][]byte) {
	t.Helper()
	node := testenv.Tool(t, "node")
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for src, dst := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		write(dst, b)
	}
	for name, b := range extra {
		write(name, b)
	}
	write("package.json", []byte(`{"type":"module"}`))
	cmd := exec.Command(node, "--test", filepath.Join(dir, script))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
