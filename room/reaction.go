package room

import "fmt"

// Reactions: a participant sends a short emoji reaction that everyone who
// may see them sees on their row and tile for a few seconds. Nothing is
// kept: the feature has no state, only a command and an event.

// FeatureReaction names the reactions feature.
const FeatureReaction = "reaction"

// ReactionEmoji are the reactions one may send.
var ReactionEmoji = []string{"👍", "👎", "👏", "😂", "😮", "❤️", "🎉", "🤔"}

// SendReaction is the reactions feature's one command.
type SendReaction struct{ Emoji string }

// Reaction is the feature's event: participant ID sent Emoji.
type Reaction struct {
	ID    string
	Emoji string
}

// ReactionFeature registers reactions with a Manager.
func ReactionFeature() FeatureSpec {
	return FeatureSpec{Name: FeatureReaction, New: func(*Meeting) Feature { return reactions{} }}
}

type reactions struct{}

func (reactions) Command(tx *Tx, actor *Participant, cmd any) (any, error) {
	c, ok := cmd.(SendReaction)
	if !ok {
		return nil, fmt.Errorf("%w: reaction command %T", ErrInvalid, cmd)
	}
	known := false
	for _, e := range ReactionEmoji {
		known = known || e == c.Emoji
	}
	if !known {
		return nil, fmt.Errorf("%w: unknown reaction", ErrInvalid)
	}
	tx.SendIf(func(p *Participant) bool { return tx.MaySee(p, actor) }, Reaction{ID: actor.ID, Emoji: c.Emoji})
	return nil, nil
}

func (reactions) View(*Participant) any                     { return nil }
func (reactions) Snapshot() ([]byte, error)                 { return nil, nil }
func (reactions) Restore(snapshot []byte, _ [][]byte) error { return nil }
