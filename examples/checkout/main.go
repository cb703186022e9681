// Command checkout is a small shop that takes payments with BeeCloud's pay
// button (秒支付Button), on net/http and html/template alone.
//
//	go run ./examples/checkout
//
// Without credentials it runs offline: a local BeeCloud sandbox serves the
// button script and the pay pages and sends the shop signed webhooks. With
// BEECLOUD_APP_ID, BEECLOUD_APP_SECRET and BEECLOUD_MASTER_SECRET set it
// serves BeeCloud's real script instead, and payments are real.
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

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/examples/checkout/shop"
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
	storeKind := fs.String("store", "memory", "where handled webhooks are recorded: memory")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./examples/checkout [-addr 127.0.0.1:8080] [-store memory]")
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

	store, closeStore, err := openStore(ctx, *storeKind, getenv)
	if err != nil {
		return err
	}
	defer closeStore()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w\n(is another shop running there? choose another address, such as -addr 127.0.0.1:8088)", *addr, err)
	}
	defer ln.Close()
	shopURL := "http://" + ln.Addr().String()

	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := shop.Config{Store: store, Logger: log}
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
		served, shutdown = errc, srv.Shutdown
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

// openStore returns the store that records handled webhooks, by kind, and
// a function that closes it. This is the one place that chooses a store.
func openStore(_ context.Context, kind string, _ func(string) string) (beecloud.Store, func(), error) {
	switch kind {
	case "memory":
		return new(beecloud.MemStore), func() {}, nil
	}
	return nil, nil, fmt.Errorf("unknown -store %q (want memory)", kind)
}
