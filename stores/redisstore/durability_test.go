package redisstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			if tc.want == "" {
				require.NoError(t, err, "New")
				return
			}
			require.Error(t, err, "New")
			require.Nil(t, s, "New")
			// The message names the setting: what is tested here.
			require.ErrorContains(t, err, tc.want, "New")
			require.Truef(t, strings.HasPrefix(err.Error(), "redisstore: "), "New: error %q lacks the redisstore: prefix", err)
			if !strings.Contains(tc.name, "CONFIG") {
				require.ErrorIs(t, err, redisstore.ErrNotDurable, "New")
			}
			require.ErrorContains(t, err, "AcceptDataLoss", "New: want the error to name Options.AcceptDataLoss")
			_, err = redisstore.New(ctx, c, &redisstore.Options{AcceptDataLoss: true})
			assert.NoError(t, err, "New with AcceptDataLoss")
		})
	}
}

func TestNewNilClient(t *testing.T) {
	s, err := redisstore.New(context.Background(), nil, &redisstore.Options{AcceptDataLoss: true})
	require.Error(t, err, "New(nil client)")
	assert.Nil(t, s, "New(nil client)")
}
