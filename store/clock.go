package store

import (
	"context"
	"fmt"
	"time"
)

// Time is the Redis server's clock (TIME). Leases and TTLs run on it
// while every node decides by its own: aula check compares the two.
func (s *Redis) Time(ctx context.Context) (time.Time, error) {
	t, err := s.c.Time(ctx).Result()
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: TIME: %w", ErrUnavailable, err)
	}
	return t, nil
}
