package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/redis/go-redis/v9"
)

// TestNewChecksDurability starts Redis servers with each setting that can
// lose an acknowledged write, and checks that New refuses them with an
// error naming the setting, unless AcceptDataLoss is set; and that it
// accepts a durable one.
func TestNewChecksDurability(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // in the error; empty: New succeeds
	}{
		{"durable", nil, ""},
		{"durable, maxmemory 0 with an evicting policy", []string{"--maxmemory-policy", "allkeys-lru"}, ""},
		{"no append-only file", []string{"--appendonly", "no"}, `appendonly is "no"`},
		{"appendfsync everysec", []string{"--appendfsync", "everysec"}, `appendfsync is "everysec"`},
		{"appendfsync no", []string{"--appendfsync", "no"}, `appendfsync is "no"`},
		{"evicting policy", []string{"--maxmemory", "100mb", "--maxmemory-policy", "volatile-lru"}, `maxmemory-policy is "volatile-lru"`},
		{"CONFIG disabled", []string{"--rename-command", "CONFIG", ""}, "cannot read the server's appendonly setting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startRedis(t, tc.args...)
			c := redis.NewClient(&redis.Options{Addr: srv.addr})
			t.Cleanup(func() { c.Close() })
			ctx := context.Background()
			s, err := redisstore.New(ctx, c, nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New = %v; want a Store", err)
			case tc.want == "":
				return
			case err == nil || s != nil:
				t.Fatalf("New = %v, %v; want an error with %q", s, err, tc.want)
			case !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "redisstore: "):
				t.Fatalf("New: %v; want an error with %q", err, tc.want)
			}
			if !strings.Contains(tc.name, "CONFIG") && !errors.Is(err, redisstore.ErrNotDurable) {
				t.Errorf("New: %v; want ErrNotDurable", err)
			}
			if !strings.Contains(err.Error(), "AcceptDataLoss") {
				t.Errorf("New: %v; want the error to name Options.AcceptDataLoss", err)
			}
			if _, err := redisstore.New(ctx, c, &redisstore.Options{AcceptDataLoss: true}); err != nil {
				t.Errorf("New with AcceptDataLoss = %v; want a Store", err)
			}
		})
	}
}

func TestNewNilClient(t *testing.T) {
	if s, err := redisstore.New(context.Background(), nil, &redisstore.Options{AcceptDataLoss: true}); err == nil || s != nil {
		t.Fatalf("New(nil client) = %v, %v; want an error", s, err)
	}
}
