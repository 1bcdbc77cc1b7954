package loadgen

import "errors"

var (
	// ErrOptions: the options make no sense (no subscribers and no
	// publishers, a negative count, a missing URL or secret …).
	ErrOptions = errors.New("loadgen: invalid options")
	// ErrAPI: the BigBlueButton API refused a call or answered nonsense.
	ErrAPI = errors.New("loadgen: BBB API call failed")
	// ErrJoin: the join link, cookie or WebSocket did not lead into the room.
	ErrJoin = errors.New("loadgen: join failed")
	// ErrNoMedia: the server never started media for a client (no
	// media.config, media.offer or media.answer arrived): it lacks the
	// media messages, or refused them.
	ErrNoMedia = errors.New("loadgen: the server did not set up media")
	// ErrServer: the server sent an error message or closed the socket.
	ErrServer = errors.New("loadgen: server error")
	// ErrMetrics: /metrics could not be read or parsed.
	ErrMetrics = errors.New("loadgen: bad metrics")
)
