package store

import "errors"

// Sentinel errors of package store, wrapped with detail; test them with
// errors.Is. Missing data is room.ErrNotFound, not one of these.
var (
	// ErrInvalidName: a file name for Dir is empty, too long, not printable,
	// hidden (leading dot), "..", or contains a path separator. Errors
	// carrying it also wrap room.ErrInvalid, so edges answer "bad request".
	ErrInvalidName = errors.New("store: invalid file name")
	// ErrInvalidKey: a meeting key given to Dir is not 40 hex characters
	// (room.KeyOf's shape), so it can never name a path outside the root.
	ErrInvalidKey = errors.New("store: invalid meeting key")
	// ErrRedisURL: AULA_REDIS_URL could not be parsed (scheme redis://,
	// rediss:// or unix://).
	ErrRedisURL = errors.New("store: invalid Redis URL")
	// ErrUnavailable: the Redis server did not answer at start-up.
	ErrUnavailable = errors.New("store: Redis unavailable")
)
