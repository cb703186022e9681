package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/examples/checkout/internal/shopcmd"
	"github.com/paybutton/beecloud/examples/checkout/shop"
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
			t.Fatal(msg)
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
	t.Fatalf("no -store %s", name)
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
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore()

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			o, err := shop.StartOffline(ln, shop.Config{Store: store, FailFirst: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := o.Shutdown(context.Background()); err != nil {
					t.Error(err)
				}
			}()

			order := shop.Order{OutTradeNo: beecloud.NewOutTradeNo(), ProductID: "tea", Title: "Green tea 绿茶", Amount: 150, Created: time.Now()}
			if err := o.Orders.Add(order); err != nil {
				t.Fatal(err)
			}
			app := o.Sandbox.Apps()[0].Config
			params, err := app.Params(beecloud.Order{Title: order.Title, Amount: order.Amount, OutTradeNo: order.OutTradeNo})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.Sandbox.Pay(app.AppID, params, beecloud.ChannelAli); err != nil {
				t.Fatal(err)
			}
			d, err := o.Sandbox.WaitDelivery(ctx, order.OutTradeNo)
			if err != nil || !d.Acknowledged || len(d.Attempts) < 2 {
				t.Fatalf("delivery %+v, %v; want acknowledged after the failed first attempt", d, err)
			}
			if dup, err := o.Sandbox.Redeliver(ctx, order.OutTradeNo); err != nil || !dup.Acknowledged || len(dup.Attempts) != 1 {
				t.Fatalf("resent webhook %+v, %v; want acknowledged at once", dup, err)
			}
			got, _ := o.Orders.Get(order.OutTradeNo)
			if got.State != shop.StatePaid || got.Handled != 1 || got.FailedWebhooks != 1 {
				t.Errorf("order %+v; want paid, handled once, after 1 failed webhook", got)
			}

			// Another instance's store, on the same database, knows the
			// transaction is done.
			other := store
			if kind != "memory" {
				var closeOther func()
				if other, closeOther, err = kindStore.Open(ctx, pg+rd); err != nil {
					t.Fatal(err)
				}
				defer closeOther()
			}
			n, err := app.ParseNotification(d.Body)
			if err != nil {
				t.Fatal(err)
			}
			if state, err := other.Claim(ctx, n.Key(), beecloud.NewOutTradeNo(), time.Minute); err != nil || state != beecloud.ClaimDone {
				t.Errorf("Claim of the handled webhook = %v, %v; want ClaimDone", state, err)
			}
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
				if out := runUntilReady(t, env, args...); !strings.Contains(out, tc.want) {
					t.Errorf("%s: output:\n%s\nwant it to say %q", how, out, tc.want)
				}
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
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
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
				t.Error("run served; want an error")
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
