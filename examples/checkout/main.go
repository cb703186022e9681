// Command checkout is a small shop that takes payments with BeeCloud's pay
// button (秒支付Button), on net/http and html/template alone.
//
//	go run ./examples/checkout
//
// Without credentials it runs offline: a local BeeCloud sandbox serves the
// button script and the pay pages and sends the shop signed webhooks. With
// BEECLOUD_APP_ID, BEECLOUD_APP_SECRET and BEECLOUD_MASTER_SECRET set it
// serves BeeCloud's real script instead, and payments are real.
//
// Each product has two buttons: 立即支付 opens BeeCloud's channel menu, and
// 微信扫码支付 skips it with instant_channel wxmp. A click BeeCloud refuses
// (a wrong App Secret gives a bad sign) shows BC.err's message on the page.
//
// Flags:
//
//	-store memory|postgres|redis   where handled webhooks are recorded, so
//	                               that each payment is handled once; use
//	                               postgres or redis when several instances
//	                               share one webhook URL
//	-postgres URL, -redis URL      the database (or BEECLOUD_POSTGRES,
//	                               BEECLOUD_REDIS); pgstore's table is
//	                               created at start if missing
//	-fail-first N                  fail each order's first N webhooks on
//	                               purpose, to watch BeeCloud resend them
//	                               (after 2 s, 4 s, …) and the order end
//	                               paid, handled once
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/examples/checkout/shop"
	"github.com/paybutton/beecloud/stores/pgstore"
	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the usage is printed
		}
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

// run starts the shop (and, offline, the sandbox) and serves until ctx
// ends. ready, if not nil, is called with the shop's URL once it serves.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(url string)) error {
	fs := flag.NewFlagSet("checkout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "the shop's listen address")
	storeKind := fs.String("store", "memory", "where handled webhooks are recorded: memory, postgres or redis")
	postgresURL := fs.String("postgres", "", "PostgreSQL `URL` for -store postgres, such as postgres://user:pass@127.0.0.1:5432/shop (default $BEECLOUD_POSTGRES)")
	redisURL := fs.String("redis", "", "Redis `URL` for -store redis, such as redis://127.0.0.1:6379/0 (default $BEECLOUD_REDIS)")
	failFirst := fs.Int("fail-first", 0, "fail each order's first `N` payment webhooks on purpose, to watch BeeCloud resend them")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./examples/checkout [-addr 127.0.0.1:8080] [-store memory|postgres|redis] [-fail-first N]")
		fmt.Fprintln(stderr, "\nWithout BEECLOUD_APP_ID, BEECLOUD_APP_SECRET and BEECLOUD_MASTER_SECRET the shop")
		fmt.Fprintln(stderr, "runs offline against a local BeeCloud sandbox; with them it uses BeeCloud itself.")
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *failFirst < 0 {
		return fmt.Errorf("-fail-first %d: want 0 or more", *failFirst)
	}

	if *postgresURL == "" {
		*postgresURL = getenv("BEECLOUD_POSTGRES")
	}
	if *redisURL == "" {
		*redisURL = getenv("BEECLOUD_REDIS")
	}
	store, closeStore, err := openStore(ctx, *storeKind, *postgresURL, *redisURL)
	if err != nil {
		return err
	}
	defer closeStore()
	fmt.Fprintf(stdout, "Handled webhooks are recorded in %s.\n", storeDescriptions[*storeKind])

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w\n(is another shop running there? choose another address, such as -addr 127.0.0.1:8088)", *addr, err)
	}
	defer ln.Close()
	shopURL := "http://" + ln.Addr().String()

	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := shop.Config{Store: store, Logger: log, FailFirst: *failFirst}
	bc := beecloud.Config{
		AppID:        getenv("BEECLOUD_APP_ID"),
		AppSecret:    getenv("BEECLOUD_APP_SECRET"),
		MasterSecret: getenv("BEECLOUD_MASTER_SECRET"),
	}
	var (
		served   <-chan error
		shutdown func(context.Context) error
	)
	switch {
	case bc.AppID != "" && bc.AppSecret != "" && bc.MasterSecret != "":
		cfg.BeeCloud = bc
		h, err := shop.New(cfg)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		served, shutdown = errc, func(ctx context.Context) error {
			// Requests under way get shop.ShutdownGrace to finish; then
			// every connection is cut, for a spare one a browser opened
			// and never used would hold Shutdown for 5 s.
			grace, cancel := context.WithTimeout(ctx, shop.ShutdownGrace)
			defer cancel()
			if err := srv.Shutdown(grace); err != nil {
				return srv.Close()
			}
			return nil
		}
		fmt.Fprintf(stdout, "Using BeeCloud itself with app %s (from BEECLOUD_APP_ID): payments are REAL.\n", bc.AppID)
		fmt.Fprintf(stdout, "Set the app's webhook URL on BeeCloud's dashboard to a public address that reaches %s%s.\n", shopURL, shop.WebhookPath)
	case bc.AppID != "" || bc.AppSecret != "" || bc.MasterSecret != "":
		return errors.New("set all of BEECLOUD_APP_ID, BEECLOUD_APP_SECRET and BEECLOUD_MASTER_SECRET to use BeeCloud, or none to run offline")
	default:
		// Resends at BeeCloud's own pace (2 s, 4 s, …), so the log reads
		// like production.
		offline, err := shop.StartOffline(ln, cfg, 2*time.Second)
		if err != nil {
			return err
		}
		served, shutdown = offline.Done(), offline.Shutdown
		demo := offline.Sandbox.Apps()[0].Config
		fmt.Fprintf(stdout, "No BEECLOUD_APP_ID set: running offline with a local BeeCloud sandbox at %s (no real money moves).\n", offline.Sandbox.URL)
		fmt.Fprintf(stdout, "Demo app for this run: app_id %s, app_secret %s, master_secret %s\n", demo.AppID, demo.AppSecret, demo.MasterSecret)
	}
	fmt.Fprintf(stdout, "Shop ready: open %s/ in a browser (Ctrl-C to stop).\n", shopURL)
	if ready != nil {
		ready(shopURL)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "Shutting down…")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return shutdown(shutdownCtx)
}

// storeDescriptions says where each -store keeps its records.
var storeDescriptions = map[string]string{
	"memory":   "memory (one process; forgotten on restart)",
	"postgres": "PostgreSQL, table " + pgstore.DefaultTable + " (shared by every instance)",
	"redis":    "Redis, keys " + redisstore.DefaultPrefix + "* (shared by every instance)",
}

// openStore returns the store that records handled webhooks, by kind, and
// a function that closes it. This is the one place that chooses a store:
// memory for one process, PostgreSQL or Redis when several instances of
// the shop share one webhook URL. It checks the connection at once, so
// that a wrong URL fails at start rather than at the first payment, and
// creates pgstore's table if it is missing.
func openStore(ctx context.Context, kind, postgresURL, redisURL string) (beecloud.Store, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch kind {
	case "memory":
		return new(beecloud.MemStore), func() {}, nil
	case "postgres":
		if postgresURL == "" {
			return nil, nil, errors.New("-store postgres needs -postgres URL or BEECLOUD_POSTGRES")
		}
		pool, err := pgxpool.New(ctx, postgresURL)
		if err != nil {
			return nil, nil, fmt.Errorf("-store postgres: %w", err)
		}
		store := pgstore.New(pool, nil)
		if err := store.CreateSchema(ctx); err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("-store postgres: %w", err)
		}
		return store, pool.Close, nil
	case "redis":
		if redisURL == "" {
			return nil, nil, errors.New("-store redis needs -redis URL or BEECLOUD_REDIS")
		}
		opts, err := redis.ParseURL(redisURL)
		if err != nil {
			return nil, nil, fmt.Errorf("-store redis: %w", err)
		}
		client := redis.NewClient(opts)
		if err := client.Ping(ctx).Err(); err != nil {
			client.Close()
			return nil, nil, fmt.Errorf("-store redis: cannot reach %s: %w", opts.Addr, err)
		}
		return redisstore.New(client, nil), func() { client.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown -store %q (want memory, postgres or redis)", kind)
}
