package store

import (
	"context"
	"fmt"
	"time"

	"aula/room"
)

// Keys lists every key under Prefix in st with its remaining TTL (negative:
// none), for Memory and Redis alike: tests (and an operator's check) prove
// with it that every key expires and that an ended meeting left nothing.
func Keys(ctx context.Context, st room.Store) (map[string]time.Duration, error) {
	switch s := st.(type) {
	case *Memory:
		return s.Keys(), nil
	case *Redis:
		return s.Keys(ctx)
	default:
		return nil, fmt.Errorf("store: cannot inspect a %T", st)
	}
}

// Dump lists every key under Prefix in st with its value as text, so tests
// can search the whole store for data that must never be in it (a phone
// number, a password).
func Dump(ctx context.Context, st room.Store) (map[string]string, error) {
	switch s := st.(type) {
	case *Memory:
		return s.Dump(), nil
	case *Redis:
		return s.Dump(ctx)
	default:
		return nil, fmt.Errorf("store: cannot inspect a %T", st)
	}
}
