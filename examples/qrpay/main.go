// Command qrpay is a shop that takes WeChat Pay without BeeCloud's button:
// its server makes each bill through BeeCloud's REST API, draws the WeChat
// QR code itself (WX_NATIVE) and polls the order until its webhook says it
// is paid; when the webhook is late, the polls ask BeeCloud now and then
// (WebhookHandler.Reconcile). A native app gets the parameters of WeChat's or Alipay's SDK
// from POST /api/pay with {"channel":"WX_APP"} or {"channel":"ALI_APP"}.
//
//	go run ./examples/qrpay [-addr 127.0.0.1:8082] [-test]
//
// Without credentials it runs offline: a local BeeCloud sandbox makes the
// bills, and the QR code leads to the sandbox's page, where a click stands
// for paying in WeChat. With BEECLOUD_APP_ID, BEECLOUD_APP_SECRET and
// BEECLOUD_MASTER_SECRET set it uses BeeCloud, and payments are real;
// -test (with BEECLOUD_TEST_SECRET) uses BeeCloud's test mode instead,
// where nothing is charged.
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
	"github.com/paybutton/beecloud/examples/qrpay/qrshop"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "qrpay:", err)
		os.Exit(1)
	}
}

// run serves the shop until ctx ends; ready, if not nil, is told its URL
// once it serves.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(url string)) error {
	fs := flag.NewFlagSet("qrpay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8082", "the listen address")
	test := fs.Bool("test", false, "use BeeCloud's test mode (needs $BEECLOUD_TEST_SECRET with credentials)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w\n(choose another address with -addr)", *addr, err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := beecloud.Config{
		AppID:        getenv("BEECLOUD_APP_ID"),
		AppSecret:    getenv("BEECLOUD_APP_SECRET"),
		MasterSecret: getenv("BEECLOUD_MASTER_SECRET"),
		TestSecret:   getenv("BEECLOUD_TEST_SECRET"),
	}
	var shutdown func(context.Context) error
	url := "http://" + ln.Addr().String()
	switch {
	case cfg.AppID == "" && cfg.AppSecret == "" && cfg.MasterSecret == "":
		off, err := qrshop.StartOffline(ln, qrshop.Config{Logger: logger}, *test, 2*time.Second)
		if err != nil {
			ln.Close()
			return err
		}
		fmt.Fprintf(stdout, "No credentials set: running offline on a local BeeCloud sandbox at %s (no real money moves).\n", off.Sandbox.URL)
		shutdown = off.Shutdown
	case cfg.AppID == "" || cfg.AppSecret == "" || cfg.MasterSecret == "" || *test && cfg.TestSecret == "":
		ln.Close()
		return errors.New("set BEECLOUD_APP_ID, BEECLOUD_APP_SECRET and BEECLOUD_MASTER_SECRET (and BEECLOUD_TEST_SECRET with -test), or none to run offline")
	default:
		shop, err := qrshop.New(qrshop.Config{Client: &beecloud.Client{Config: cfg, Test: *test}, Logger: logger})
		if err != nil {
			ln.Close()
			return err
		}
		srv := &http.Server{Handler: shop, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
		go srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed after Shutdown
		mode := "payments are REAL"
		if *test {
			mode = "BeeCloud's test mode: nothing is charged"
		}
		fmt.Fprintf(stdout, "Using BeeCloud (app %s): %s. Set the app's webhook URL to …%s.\n", cfg.AppID, mode, qrshop.WebhookPath)
		shutdown = srv.Shutdown
	}
	fmt.Fprintf(stdout, "Ready: open %s/ (Ctrl-C to stop).\n", url)
	if ready != nil {
		ready(url)
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "Shutting down…")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return shutdown(shutdownCtx)
}
