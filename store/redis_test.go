package store_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"aula/internal/testenv"
	"aula/room"
	"aula/store"
	"aula/store/storetest"
)

// contractDB is the Redis database the contract suite owns on the shared
// test server: the suite lists every aula: key of its database, so no other
// test may write there. Other packages use database 0.
const contractDB = 15

type redisInspector struct {
	s  *store.Redis
	mr *miniredis.Miniredis // nil on a real server
}

func (i redisInspector) Keys(t testing.TB) map[string]time.Duration {
	t.Helper()
	k, err := i.s.Keys(context.Background())
	if err != nil {
		t.Fatalf("inspect keys: %v", err)
	}
	return k
}

func (i redisInspector) Dump(t testing.TB) map[string]string {
	t.Helper()
	d, err := i.s.Dump(context.Background())
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	return d
}

func (i redisInspector) Elapse(_ testing.TB, d time.Duration) {
	if i.mr != nil {
		i.mr.FastForward(d)
	}
	// A real server's clock runs by itself; the suite polls.
}

// dropKeys deletes the aula: keys of the client's database, and only those.
func dropKeys(t testing.TB, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	it := c.Scan(ctx, 0, store.Prefix+"*", 500).Iterator()
	for it.Next(ctx) {
		if err := c.Del(ctx, it.Val()).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newRealRedis returns a store on the contract database of the test server.
func newRealRedis(t *testing.T) (*store.Redis, *redis.Client) {
	t.Helper()
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("AULA_TEST_REDIS_URL: %v", err)
	}
	opts.DB = contractDB
	c := redis.NewClient(opts)
	s, err := store.NewRedisClient(context.Background(), c, quietLog())
	if err != nil {
		t.Fatalf("NewRedisClient: %v", err)
	}
	dropKeys(t, c)
	t.Cleanup(func() {
		dropKeys(t, c)
		s.Close()
	})
	return s, c
}

func TestRedisContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (room.Store, storetest.Inspector) {
		s, _ := newRealRedis(t)
		return s, redisInspector{s: s}
	})
}

// TestMiniredisContract runs the Redis code against miniredis too, whose
// clock the suite can move, so expiry is checked without waiting.
func TestMiniredisContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (room.Store, storetest.Inspector) {
		mr := miniredis.RunT(t)
		s, err := store.NewRedis(context.Background(), "redis://"+mr.Addr(), quietLog())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, redisInspector{s: s, mr: mr}
	})
}

func TestNewRedisErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, url string
		want      error
	}{
		{"unknown scheme", "http://localhost:6379", store.ErrRedisURL},
		{"garbage", "::not a url", store.ErrRedisURL},
		{"bad host, password given", "redis://:s3cret-pw@[::1", store.ErrRedisURL},
		{"bad port, password given", "redis://u:s3cret-pw@localhost:port/0", store.ErrRedisURL},
		{"bad option, password given", "redis://:s3cret-pw@localhost/0?dial_timeout=xx", store.ErrRedisURL},
		{"bad database", "redis://127.0.0.1:6379/notanumber", store.ErrRedisURL},
		{"nothing listens on the socket", "unix://" + t.TempDir() + "/none.sock", store.ErrUnavailable},
		{"nothing listens on the port", "redis://:s3cret-pw@127.0.0.1:1/0", store.ErrUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // refused connections are retried with backoff
			s, err := store.NewRedis(ctx, c.url, quietLog())
			if !errors.Is(err, c.want) {
				if s != nil {
					s.Close()
				}
				t.Fatalf("NewRedis(%q) = %v, want %v", c.url, err, c.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error reveals the password: %v", err)
			}
		})
	}
}

func TestOpenChoosesStore(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*store.Memory); !ok {
		t.Fatalf("Open(\"\") = %T, want *store.Memory", s)
	}
	s.Close()

	url := testenv.RedisURL(t)
	s, err = store.Open(ctx, url, quietLog())
	if err != nil {
		t.Fatalf("Open(%q): %v", url, err)
	}
	defer s.Close()
	if _, ok := s.(*store.Redis); !ok {
		t.Fatalf("Open(redis URL) = %T, want *store.Redis", s)
	}
	if _, err := s.GetMeeting(ctx, room.KeyOf("store-open-test")); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("GetMeeting on a fresh Redis store: %v", err)
	}
	if _, err := store.Open(ctx, "ftp://x", quietLog()); !errors.Is(err, store.ErrRedisURL) {
		t.Fatalf("Open(ftp://x) = %v, want ErrRedisURL", err)
	}
}
