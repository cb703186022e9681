package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/examples/checkout/internal/shopcmd"
	"github.com/paybutton/beecloud/examples/checkout/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storeURLs returns the -postgres and -redis URLs for a test of kind, from
// BEECLOUD_POSTGRES and BEECLOUD_REDIS, or skips t (fails it
// under CI=true) when kind's is not set.
func storeURLs(t *testing.T, kind string) (postgresURL, redisURL string) {
	t.Helper()
	env := map[string]string{"postgres": "BEECLOUD_POSTGRES", "redis": "BEECLOUD_REDIS"}[kind]
	if env == "" {
		return "", ""
	}
	u := os.Getenv(env)
	if u == "" {
		msg := env + ` is not set: run eval "$(bash .ci/services.sh)" to start PostgreSQL and Redis on loopback`
		if os.Getenv("CI") == "true" {
			require.FailNow(t, msg)
		}
		t.Skip(msg)
	}
	if kind == "postgres" {
		return u, ""
	}
	return "", u
}

// storeOf returns the -store of the given name.
func storeOf(t *testing.T, name string) shopcmd.Store {
	t.Helper()
	for _, s := range command.Stores {
		if s.Name == name {
			return s
		}
	}
	require.FailNow(t, "no -store "+name)
	return shopcmd.Store{}
}

// TestWebhookWithEachStore pays an order of the offline shop with each
// -store, with -fail-first 1 so that the store releases a failed claim,
// and has the sandbox send the acknowledged webhook again: the order is
// paid, handled once, and the store (as another instance of the shop
// would see it) holds the transaction as done.
func TestWebhookWithEachStore(t *testing.T) {
	for _, kind := range []string{"memory", "postgres", "redis"} {
		t.Run(kind, func(t *testing.T) {
			pg, rd := storeURLs(t, kind)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			kindStore := storeOf(t, kind)
			store, closeStore, err := kindStore.Open(ctx, pg+rd)
			require.NoError(t, err, "Open the %s store", kind)
			defer closeStore()

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err, "net.Listen")
			o, err := shop.StartOffline(ln, shop.Config{Store: store, FailFirst: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 0)
			require.NoError(t, err, "StartOffline")
			defer func() {
				assert.NoError(t, o.Shutdown(context.Background()), "Shutdown")
			}()

			order := shop.Order{OutTradeNo: beecloud.NewOutTradeNo(), ProductID: "tea", Title: "Green tea 绿茶", Amount: 150, Created: time.Now()}
			require.NoError(t, o.Orders.Add(order), "Orders.Add")
			app := o.Sandbox.Apps()[0].Config
			params, err := app.Params(beecloud.Order{Title: order.Title, Amount: order.Amount, OutTradeNo: order.OutTradeNo})
			require.NoError(t, err, "Params")
			_, err = o.Sandbox.Pay(app.AppID, params, beecloud.ChannelAli)
			require.NoError(t, err, "Sandbox.Pay")
			d, err := o.Sandbox.WaitDelivery(ctx, order.OutTradeNo)
			require.NoError(t, err, "WaitDelivery")
			require.True(t, d.Acknowledged, "delivery %+v; want acknowledged after the failed first attempt", d)
			require.GreaterOrEqual(t, len(d.Attempts), 2, "delivery %+v; want acknowledged after the failed first attempt", d)
			dup, err := o.Sandbox.Redeliver(ctx, order.OutTradeNo)
			require.NoError(t, err, "Redeliver")
			require.True(t, dup.Acknowledged, "resent webhook %+v; want acknowledged at once", dup)
			require.Len(t, dup.Attempts, 1, "resent webhook %+v; want acknowledged at once", dup)
			got, _ := o.Orders.Get(order.OutTradeNo)
			assert.Equal(t, shop.StatePaid, got.State, "order %+v", got)
			assert.Equal(t, 1, got.Handled, "order %+v: times handled", got)
			assert.Equal(t, 1, got.FailedWebhooks, "order %+v: failed webhooks", got)

			// Another instance's store, on the same database, knows the
			// transaction is done.
			other := store
			if kind != "memory" {
				var closeOther func()
				other, closeOther, err = kindStore.Open(ctx, pg+rd)
				require.NoError(t, err, "Open another %s store", kind)
				defer closeOther()
			}
			n, err := app.ParseNotification(d.Body)
			require.NoError(t, err, "ParseNotification")
			state, err := other.Claim(ctx, n.Key(), beecloud.NewOutTradeNo(), time.Minute)
			require.NoError(t, err, "Claim of the handled webhook")
			assert.Equal(t, beecloud.ClaimDone, state, "Claim of the handled webhook")
		})
	}
}

// TestStoreFlags runs the example with -store and the URL from a flag or
// from the environment.
func TestStoreFlags(t *testing.T) {
	for _, tc := range []struct {
		kind, flag, env, want string
	}{
		{"postgres", "-postgres", "BEECLOUD_POSTGRES", "recorded in PostgreSQL"},
		{"redis", "-redis", "BEECLOUD_REDIS", "recorded in Redis"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			pg, rd := storeURLs(t, tc.kind)
			u := pg + rd
			for _, how := range []string{"flag", "env"} {
				args, env := []string{"-addr", "127.0.0.1:0", "-store", tc.kind}, map[string]string{}
				if how == "flag" {
					args = append(args, tc.flag, u)
				} else {
					env[tc.env] = u
				}
				assert.Contains(t, runUntilReady(t, env, args...), tc.want, "output, with the URL from the %s", how)
			}
		})
	}
}

// runUntilReady runs the command with args and env, stops it as soon as
// it serves, and returns what it printed.
func runUntilReady(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	err := command.Run(ctx, args, func(k string) string { return env[k] }, &out, io.Discard, func(string) { cancel() })
	require.NoError(t, err, "Run(%q):\n%s", args, out.String())
	return out.String()
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown store", nil, []string{"-store", "mysql"}, `unknown -store "mysql" (want memory or postgres or redis)`},
		{"postgres without URL", nil, []string{"-store", "postgres"}, "-store postgres needs -postgres URL or BEECLOUD_POSTGRES"},
		{"redis without URL", nil, []string{"-store", "redis"}, "-store redis needs -redis URL or BEECLOUD_REDIS"},
		{"redis bad URL", nil, []string{"-store", "redis", "-redis", "http://127.0.0.1:6379"}, "-store redis: "},
		{"postgres bad URL", map[string]string{"BEECLOUD_POSTGRES": "postgres://%zz"}, []string{"-store", "postgres"}, "-store postgres: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := command.Run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &out, &out, func(string) {
				assert.Fail(t, "run served; want an error")
			})
			assert.ErrorContains(t, err, tt.want, "Run(%q)", tt.args)
		})
	}
}
