package loadgen

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"
)

// wbClient is one participant of the whiteboard scenario: a signaling
// socket, no media. It counts the whiteboard messages it receives, and
// (the presenter) keeps the page under its cap.
type wbClient struct {
	*sigClient
	g         *wbGen
	presenter bool
	drawer    int           // index in wbGen.drawers, -1 for a viewer who only watches
	received  atomic.Uint64 // measured whiteboard messages received

	// The presenter's view of the page, owned by its read loop.
	shapes   int
	clearing bool
}

func newWBClient(g *wbGen, idx int) *wbClient {
	name := "Board presenter"
	if idx > 0 {
		name = "Board viewer " + strconv.Itoa(idx)
	}
	c := &wbClient{g: g, presenter: idx == 0, drawer: -1}
	c.sigClient = newSigClient(g.api, g.base, g.meetingID, &g.stopping, idx, name, c.presenter, g.log.With("client", idx))
	c.handle = c.handleWB
	c.onError = func(code, ref string) {
		g.noteError(code)
		if c.presenter && len(ref) > 0 && ref[0] == 'c' {
			c.clearing = false
		}
	}
	return c
}

// Payloads of the server messages the scenario reads (only the fields it
// needs; the rest is skipped by encoding/json).
type (
	wbDrawingIn struct {
		Data struct {
			Shape struct {
				ID     string          `json:"id"`
				Points json.RawMessage `json:"points"`
			} `json:"shape"`
		} `json:"data"`
	}
	wbAddedIn struct {
		Data struct {
			Shapes []struct {
				ID string `json:"id"`
			} `json:"shapes"`
		} `json:"data"`
	}
	wbRemovedIn struct {
		Data struct {
			IDs []string `json:"ids"`
		} `json:"data"`
	}
)

func (c *wbClient) handleWB(typ string, b []byte, now time.Time) error {
	g := c.g
	switch typ {
	case "wb.drawing":
		var m wbDrawingIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		// The whole stroke so far: its number of points tells which of
		// the stroke's messages this is.
		n := bytes.Count(m.Data.Shape.Points, []byte{'['}) - 1
		idx := -1
		if n > 0 && n%g.o.Points == 0 {
			idx = n/g.o.Points - 1
		}
		g.observe(c, m.Data.Shape.ID, idx, now)
	case "wb.added":
		var m wbAddedIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		for _, s := range m.Data.Shapes {
			g.observe(c, s.ID, g.o.Stroke-1, now)
		}
		if c.presenter {
			c.shapes += len(m.Data.Shapes)
			c.maybeClear()
		}
	case "wb.removed":
		if c.presenter {
			var m wbRemovedIn
			if err := decodeIn(typ, b, &m); err != nil {
				return err
			}
			c.shapes -= len(m.Data.IDs)
			c.clearing = false
		}
	}
	return nil
}

// maybeClear has the presenter clear the page once it fills up, one
// clear at a time; with the writer's queue full it tries again on the
// next wb.added.
func (c *wbClient) maybeClear() {
	if c.clearing || c.shapes < c.g.o.ClearAt {
		return
	}
	data, _ := json.Marshal(map[string]any{"page": blankPage, "all": true})
	if c.trySend(envelope{Type: "wb.clear", Ref: c.nextRef("c"), Data: data}) {
		c.clearing = true
		c.g.clears.Add(1)
	}
}
