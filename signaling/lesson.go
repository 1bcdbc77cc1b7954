package signaling

import (
	"encoding/json"

	"aula/room"
)

// The presentation and the whiteboard on the wire (docs/protocol.md,
// "Presentation" and "Whiteboard"): each a signaling.Feature over its room
// state machine.

// Presentation message types.
const (
	TypePresentationShow     = "presentation.show"     // client: DocRef (presenter)
	TypePresentationPage     = "presentation.page"     // client: PageTurn (presenter)
	TypePresentationView     = "presentation.view"     // client: ViewSet (presenter)
	TypePresentationRemove   = "presentation.remove"   // client: DocRef (presenter)
	TypePresentationDownload = "presentation.download" // client: DownloadSet (presenter)
	TypePresentationAddPage  = "presentation.addPage"  // client: no data (presenter)
	TypePresentationState    = "presentation.state"    // server: room.PresentationView
)

// DocRef names a document.
type DocRef struct {
	Doc string `json:"doc"`
}

// PageTurn shows a page (1-based) of the current document.
type PageTurn struct {
	Page int `json:"page"`
}

// ViewSet zooms and pans the current page.
type ViewSet struct {
	Zoom float64 `json:"zoom"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
}

// DownloadSet lets participants download a document's original, or not.
type DownloadSet struct {
	Doc   string `json:"doc"`
	Allow bool   `json:"allow"`
}

// decoder returns a command decoder for payload type P mapped by f.
func decoder[P any](f func(P) any) func(json.RawMessage) (any, error) {
	return func(data json.RawMessage) (any, error) {
		var p P
		if err := DecodeData(data, &p); err != nil {
			return nil, err
		}
		return f(p), nil
	}
}

// noDataCommand decodes a message without data into cmd.
func noDataCommand(cmd any) func(json.RawMessage) (any, error) {
	return func(data json.RawMessage) (any, error) {
		if err := noData(data); err != nil {
			return nil, err
		}
		return cmd, nil
	}
}

// Presentation is the protocol side of room.PresentationFeature.
func Presentation() *Feature {
	return &Feature{
		Name: room.FeaturePresentation,
		Commands: map[string]func(json.RawMessage) (any, error){
			TypePresentationShow:     decoder(func(p DocRef) any { return room.ShowDoc{Doc: p.Doc} }),
			TypePresentationPage:     decoder(func(p PageTurn) any { return room.TurnPage{Page: p.Page} }),
			TypePresentationView:     decoder(func(p ViewSet) any { return room.SetView{Zoom: p.Zoom, X: p.X, Y: p.Y} }),
			TypePresentationRemove:   decoder(func(p DocRef) any { return room.RemoveDoc{Doc: p.Doc} }),
			TypePresentationDownload: decoder(func(p DownloadSet) any { return room.AllowDownload{Doc: p.Doc, Allow: p.Allow} }),
			TypePresentationAddPage:  noDataCommand(room.AddBlankPage{}),
		},
		Event: func(_ string, payload any) (string, any, bool) {
			v, ok := payload.(room.PresentationView)
			return TypePresentationState, v, ok
		},
		Burst: 20, PerSecond: 10,
	}
}

// Whiteboard message types. wb.drawing, wb.cursor and wb.access go both
// ways: a client's request, and the server's news of others'.
const (
	TypeWBDraw    = "wb.draw"    // client: WBShape
	TypeWBDrawing = "wb.drawing" // both: WBShape (server: with author)
	TypeWBErase   = "wb.erase"   // client: WBShapes
	TypeWBMove    = "wb.move"    // client: WBMove
	TypeWBUndo    = "wb.undo"    // client: no data
	TypeWBRedo    = "wb.redo"    // client: no data
	TypeWBClear   = "wb.clear"   // client: WBClear
	TypeWBAccess  = "wb.access"  // both: WBAccessMsg (presenter or moderator)
	TypeWBCursor  = "wb.cursor"  // both: WBCursorMsg
	TypeWBAdded   = "wb.added"   // server: WBShapesAdded
	TypeWBRemoved = "wb.removed" // server: WBShapes
	TypeWBMoved   = "wb.moved"   // server: WBMove
)

// WBShape is one shape on a page.
type WBShape struct {
	Page  room.PageRef `json:"page"`
	Shape room.Shape   `json:"shape"`
}

// WBShapes names shapes on a page.
type WBShapes struct {
	Page room.PageRef `json:"page"`
	IDs  []string     `json:"ids"`
}

// WBShapesAdded carries shapes that appeared on a page.
type WBShapesAdded struct {
	Page   room.PageRef `json:"page"`
	Shapes []room.Shape `json:"shapes"`
}

// WBMove moves shapes by dx, dy (fractions of the page).
type WBMove struct {
	Page room.PageRef `json:"page"`
	IDs  []string     `json:"ids"`
	DX   float64      `json:"dx"`
	DY   float64      `json:"dy"`
}

// WBClear clears one's own shapes from a page, or (all, presenter) every
// shape on it.
type WBClear struct {
	Page room.PageRef `json:"page"`
	All  bool         `json:"all,omitempty"`
}

// WBAccessMsg: who may draw besides the presenter: everyone (all) or the
// participants ids.
type WBAccessMsg struct {
	All bool     `json:"all"`
	IDs []string `json:"ids"`
}

// WBCursorMsg is a pointer position on a page (id: whose; set by the
// server).
type WBCursorMsg struct {
	ID   string       `json:"id,omitempty"`
	Page room.PageRef `json:"page"`
	X    float64      `json:"x"`
	Y    float64      `json:"y"`
}

// Whiteboard is the protocol side of room.WhiteboardFeature. Its budget
// allows live drawing (clients send wb.drawing and wb.cursor at most 20
// times a second each).
func Whiteboard() *Feature {
	return &Feature{
		Name: room.FeatureWhiteboard,
		Commands: map[string]func(json.RawMessage) (any, error){
			TypeWBDraw:    decoder(func(p WBShape) any { return room.Draw{Page: p.Page, Shape: p.Shape} }),
			TypeWBDrawing: decoder(func(p WBShape) any { return room.Drawing{Page: p.Page, Shape: p.Shape} }),
			TypeWBErase:   decoder(func(p WBShapes) any { return room.Erase{Page: p.Page, IDs: p.IDs} }),
			TypeWBMove:    decoder(func(p WBMove) any { return room.Move{Page: p.Page, IDs: p.IDs, DX: p.DX, DY: p.DY} }),
			TypeWBUndo:    noDataCommand(room.Undo{}),
			TypeWBRedo:    noDataCommand(room.Redo{}),
			TypeWBClear:   decoder(func(p WBClear) any { return room.Clear{Page: p.Page, All: p.All} }),
			TypeWBAccess:  decoder(func(p WBAccessMsg) any { return room.Access{All: p.All, IDs: p.IDs} }),
			TypeWBCursor:  decoder(func(p WBCursorMsg) any { return room.Cursor{Page: p.Page, X: p.X, Y: p.Y} }),
		},
		Event: func(_ string, payload any) (string, any, bool) {
			switch e := payload.(type) {
			case room.WBAdded:
				return TypeWBAdded, WBShapesAdded{Page: e.Page, Shapes: e.Shapes}, true
			case room.WBRemoved:
				return TypeWBRemoved, WBShapes{Page: e.Page, IDs: nonNilIDs(e.IDs)}, true
			case room.WBMoved:
				return TypeWBMoved, WBMove{Page: e.Page, IDs: e.IDs, DX: e.DX, DY: e.DY}, true
			case room.WBAccess:
				return TypeWBAccess, WBAccessMsg{All: e.All, IDs: nonNilIDs(e.IDs)}, true
			case room.WBDrawing:
				return TypeWBDrawing, WBShape{Page: e.Page, Shape: e.Shape}, true
			case room.WBCursor:
				return TypeWBCursor, WBCursorMsg{ID: e.ID, Page: e.Page, X: e.X, Y: e.Y}, true
			}
			return "", nil, false
		},
		Burst: 120, PerSecond: 60,
	}
}

func nonNilIDs(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
