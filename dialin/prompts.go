package dialin

import (
	"embed"
	"fmt"
)

// The IVR prompts: raw G.711 μ-law at 8 kHz, generated once by
// prompts/gen.sh (espeak-ng + sox) and committed, embedded here.
//
//go:embed prompts/en/*.ul prompts/de/*.ul
var promptFS embed.FS

// prompt names.
const (
	promptWelcome  = "welcome"
	promptWrongPIN = "wrongpin"
	promptJoined   = "joined"
	promptMuted    = "muted"
	promptUnmuted  = "unmuted"
	promptEnded    = "ended"
	promptWait     = "wait"
	promptGoodbye  = "goodbye"
)

var promptNames = []string{promptWelcome, promptWrongPIN, promptJoined, promptMuted, promptUnmuted, promptEnded, promptWait, promptGoodbye}

// Languages the prompts exist in.
var Languages = []string{"en", "de"}

// prompts is one language's set, μ-law bytes by name.
type prompts map[string][]byte

func loadPrompts(lang string) (prompts, error) {
	p := prompts{}
	for _, n := range promptNames {
		b, err := promptFS.ReadFile("prompts/" + lang + "/" + n + ".ul")
		if err != nil {
			return nil, fmt.Errorf("%w: language %q has no prompt %s", ErrConfig, lang, n)
		}
		p[n] = b
	}
	return p, nil
}
