package store

import (
	"context"
	"log/slog"

	"aula/room"
)

// Open returns the store the configuration asks for: the embedded memory
// store when redisURL is empty, else Redis. It is the one place where that
// choice is made, so the rest of Aula sees only room.Store.
func Open(ctx context.Context, redisURL string, log *slog.Logger) (room.Store, error) {
	if log == nil {
		log = slog.Default()
	}
	if redisURL == "" {
		log.Info("store: in memory (single node)")
		return NewMemory(nil), nil
	}
	return NewRedis(ctx, redisURL, log)
}
