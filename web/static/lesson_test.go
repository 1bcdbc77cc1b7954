package static

import "testing"

// TestLessonClientEmbedded: the binary carries the lesson tools' client,
// the external video's frame with its script and style among them.
func TestLessonClientEmbedded(t *testing.T) {
	for _, name := range []string{"video.html", "js/videoframe.js", "css/video.css", "js/notes-ot.js",
		"js/ui/notes.js", "js/ui/polls.js", "js/ui/timer.js", "js/ui/video.js",
		"js/board.js", "js/ui/presentation.js", "js/ui/whiteboard.js", "js/ui/wbtoolbar.js"} {
		if _, err := FS.ReadFile(name); err != nil {
			t.Errorf("%s not embedded: %v", name, err)
		}
	}
}
