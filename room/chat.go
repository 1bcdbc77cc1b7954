package room

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The chat lives in memory (the last MaxChatLines lines) and is written
// behind to the store's capped list, from which a node adopting the
// meeting reads it back.

// plainText refuses control characters other than line breaks and tabs
// (NUL, terminal escape sequences, C1 controls): as the API does for its
// parameters, text that reaches other people's screens is text.
func plainText(s string) error {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return fmt.Errorf("%w: control characters are not allowed", ErrInvalid)
		}
	}
	return nil
}

// chatFor returns line c as viewer may see it, or false when it is not
// for them. Under "participants cannot see each other" a viewer sees other
// viewers' public lines without their sender: no name, no ID.
func (l *live) chatFor(viewer *Participant, c *ChatMessage) (*ChatMessage, bool) {
	if c.To != "" && c.To != viewer.ID && c.From != viewer.ID {
		return nil, false
	}
	if c.From == viewer.ID || !l.mt.Lock.HideUserList || viewer.Role == Moderator {
		return c, true
	}
	if from := l.parts[c.From]; from != nil && from.p.Role == Moderator {
		return c, true
	}
	if c.FromRole == Moderator {
		return c, true
	}
	anon := *c
	anon.From, anon.FromName = "", ""
	return &anon, true
}

// addChat keeps a line in memory and queues its write; caller holds l.mu.
func (l *live) addChat(msg *ChatMessage) {
	l.chat = append(l.chat, msg)
	if max := l.mgr.cfg.MaxChatLines; len(l.chat) > max {
		l.chat = append([]*ChatMessage(nil), l.chat[len(l.chat)-max:]...)
	}
	cp := *msg
	key, max, ttl := l.mt.Key, l.mgr.cfg.MaxChatLines, l.ttl()
	l.persist.add(op{run: func(ctx context.Context, st Store) error {
		return st.AppendChat(ctx, key, &cp, max, ttl)
	}})
}

// Chat sends a public line (to == "") or a private one to participant to.
func (m *Member) Chat(_ context.Context, to, text string) (*ChatMessage, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, fmt.Errorf("%w: empty message", ErrInvalid)
	}
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > m.lv.mgr.cfg.MaxChatRunes {
		return nil, fmt.Errorf("%w: message too long or not UTF-8", ErrInvalid)
	}
	if err := plainText(text); err != nil {
		return nil, err
	}
	var msg *ChatMessage
	err := m.change(false, func(mem *member) ([]delivery, error) {
		l := m.lv
		p := mem.p
		viewer := p.Role == Viewer
		var target *member
		if to != "" {
			target = l.parts[to]
			if target == nil || !target.p.InRoom || to == p.ID || !l.canSee(p, target.p) {
				return nil, fmt.Errorf("%w: no such recipient", ErrNotFound)
			}
			if viewer && l.mt.Lock.DisablePrivChat && target.p.Role != Moderator {
				return nil, fmt.Errorf("%w: private chat is locked", ErrForbidden)
			}
		} else if viewer && l.mt.Lock.DisablePublicChat {
			return nil, fmt.Errorf("%w: public chat is locked", ErrForbidden)
		}
		msg = &ChatMessage{ID: NewID(), From: p.ID, FromName: p.Name, FromRole: p.Role, To: to, Text: text, Time: l.mgr.cfg.Now().UTC()}
		l.addChat(msg)
		var ds []delivery
		recipients := []*member{mem}
		if target != nil {
			recipients = append(recipients, target)
		} else {
			recipients = recipients[:0]
			for _, o := range l.parts {
				if o.p.InRoom {
					recipients = append(recipients, o)
				}
			}
		}
		for _, o := range recipients {
			if o.l == nil {
				continue
			}
			if v, ok := l.chatFor(o.p, msg); ok {
				ds = append(ds, delivery{o.l, Event{Type: EventChat, Chat: v}})
			}
		}
		return ds, nil
	})
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// ClearChat removes the public chat for everyone (moderators only); private
// lines stay with their two participants.
func (m *Member) ClearChat(context.Context) error {
	return m.change(true, func(*member) ([]delivery, error) {
		l := m.lv
		kept := l.chat[:0]
		for _, c := range l.chat {
			if c.To != "" {
				kept = append(kept, c)
			}
		}
		l.chat = kept
		l.queueChatRewrite()
		var ds []delivery
		for _, o := range l.parts {
			if o.p.InRoom && o.l != nil {
				ds = append(ds, delivery{o.l, Event{Type: EventChatCleared}})
			}
		}
		return ds, nil
	})
}

// queueChatRewrite writes the whole chat again (after a clear, and in a
// write-back); caller holds l.mu.
func (l *live) queueChatRewrite() {
	lines := make([]ChatMessage, len(l.chat))
	for i, c := range l.chat {
		lines[i] = *c
	}
	key, max, ttl := l.mt.Key, l.mgr.cfg.MaxChatLines, l.ttl()
	l.persist.add(op{run: func(ctx context.Context, st Store) error {
		return rewriteChat(ctx, st, key, lines, max, ttl)
	}})
}

func rewriteChat(ctx context.Context, st Store, key string, lines []ChatMessage, max int, ttl time.Duration) error {
	if err := st.ClearChat(ctx, key); err != nil {
		return err
	}
	for i := range lines {
		if err := st.AppendChat(ctx, key, &lines[i], max, ttl); err != nil {
			return err
		}
	}
	return nil
}

// mustJSON encodes a value of the room's own types, which always encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("room: encode %T: %v", v, err))
	}
	return b
}
