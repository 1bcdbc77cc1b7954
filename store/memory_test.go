package store_test

import (
	"sync"
	"testing"
	"time"

	"aula/room"
	"aula/store"
	"aula/store/storetest"
)

// clock is a settable time source for the memory store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type memInspector struct {
	m *store.Memory
	c *clock
}

func (i memInspector) Keys(testing.TB) map[string]time.Duration { return i.m.Keys() }
func (i memInspector) Dump(testing.TB) map[string]string        { return i.m.Dump() }
func (i memInspector) Elapse(_ testing.TB, d time.Duration)     { i.c.Add(d) }

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (room.Store, storetest.Inspector) {
		c := &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
		m := store.NewMemory(c.Now)
		t.Cleanup(func() { m.Close() })
		return m, memInspector{m, c}
	})
}
