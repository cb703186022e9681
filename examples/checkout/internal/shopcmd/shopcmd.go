// Package shopcmd is the command line of the checkout example: flags, the
// listener, BeeCloud itself or a local sandbox, graceful shutdown. Two
// commands share it: examples/checkout, which records webhooks in memory
// and so builds with no database driver, and examples/checkout/withdb,
// which adds PostgreSQL and Redis.
package shopcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/examples/checkout/shop"
)

// Store is one kind of store for -store: where handled webhooks are
// recorded.
type Store struct {
	// Name is the -store value, such as "postgres".
	Name string
	// Describe says where the store keeps its records, for the log.
	Describe string
	// URLFlag and URLEnv name the flag and the environment variable that
	// give the database's URL; empty for a store that needs none.
	URLFlag, URLEnv string
	// URLExample is a URL of the right shape, for -h.
	URLExample string
	// Open connects to the store at url, checks the connection and
	// returns the store and a function that closes it.
	Open func(ctx context.Context, url string) (beecloud.Store, func(), error)
}

// Memory is the in-memory store: right for one process.
var Memory = Store{
	Name:     "memory",
	Describe: "memory (one process; forgotten on restart)",
	Open: func(context.Context, string) (beecloud.Store, func(), error) {
		return new(beecloud.MemStore), func() {}, nil
	},
}

// Command describes one of the example's commands.
type Command struct {
	// Name is how the user runs it, such as "go run ./examples/checkout".
	Name string
	// Stores are the stores it offers; the first is the default.
	Stores []Store
	// Elsewhere says which command has the stores this one lacks, for
	// the error of an unknown -store.
	Elsewhere string
}

// Main runs cmd as the process's command and exits with its status.
func Main(cmd Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmd.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		// -h: the usage is printed
	case err != nil:
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

// envAdminPassword guards the admin page with BeeCloud itself.
const envAdminPassword = "CHECKOUT_ADMIN_PASSWORD"

// settings are the parsed command line.
type settings struct {
	addr      string
	store     Store
	storeURL  string
	failFirst int
	bc        beecloud.Config // from the environment
}

// Run starts the shop (and, offline, the sandbox) and serves until ctx
// ends. ready, if not nil, is called with the shop's URL once it serves.
func (cmd Command) Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(url string)) error {
	set, err := cmd.parse(args, getenv, stderr)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, set)
	if err != nil {
		return err
	}
	defer closeStore()
	fmt.Fprintf(stdout, "Handled webhooks are recorded in %s.\n", set.store.Describe)

	ln, err := net.Listen("tcp", set.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w\n(is another shop running there? choose another address, such as -addr 127.0.0.1:8088)", set.addr, err)
	}
	defer ln.Close()

	cfg := shop.Config{
		Store:         store,
		Logger:        slog.New(slog.NewTextHandler(stderr, nil)),
		FailFirst:     set.failFirst,
		AdminPassword: getenv(envAdminPassword),
	}
	srv, err := startShop(ln, cfg, set.bc, stdout)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Shop ready: open %s/ in a browser (Ctrl-C to stop).\n", url)
	if ready != nil {
		ready(url)
	}
	return serveUntil(ctx, srv, stdout)
}

// parse parses the flags and reads the credentials from the environment.
func (cmd Command) parse(args []string, getenv func(string) string, stderr io.Writer) (*settings, error) {
	fs := flag.NewFlagSet("checkout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	set := &settings{}
	fs.StringVar(&set.addr, "addr", "127.0.0.1:8080", "the shop's listen address")
	var names []string
	for _, s := range cmd.Stores {
		names = append(names, s.Name)
	}
	storeName := fs.String("store", cmd.Stores[0].Name, "where handled webhooks are recorded: "+strings.Join(names, ", "))
	urls := map[string]*string{}
	for _, s := range cmd.Stores {
		if s.URLFlag != "" {
			urls[s.Name] = fs.String(s.URLFlag, "", fmt.Sprintf("the database `URL` for -store %s, such as %s (default $%s)", s.Name, s.URLExample, s.URLEnv))
		}
	}
	fs.IntVar(&set.failFirst, "fail-first", 0, "fail each order's first `N` payment webhooks on purpose, to watch BeeCloud resend them")
	fs.Usage = func() { cmd.usage(fs, names) }
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if set.failFirst < 0 {
		return nil, fmt.Errorf("-fail-first %d: want 0 or more", set.failFirst)
	}
	i := slices.IndexFunc(cmd.Stores, func(s Store) bool { return s.Name == *storeName })
	if i < 0 {
		return nil, fmt.Errorf("unknown -store %q (want %s)%s", *storeName, strings.Join(names, " or "), cmd.Elsewhere)
	}
	set.store = cmd.Stores[i]
	if u := urls[set.store.Name]; u != nil {
		set.storeURL = *u
		if set.storeURL == "" {
			set.storeURL = getenv(set.store.URLEnv)
		}
		if set.storeURL == "" {
			return nil, fmt.Errorf("-store %s needs -%s URL or %s", set.store.Name, set.store.URLFlag, set.store.URLEnv)
		}
	}
	set.bc = beecloud.Config{
		AppID:        getenv("BEECLOUD_APP_ID"),
		AppSecret:    getenv("BEECLOUD_APP_SECRET"),
		MasterSecret: getenv("BEECLOUD_MASTER_SECRET"),
	}
	return set, nil
}

func (cmd Command) usage(fs *flag.FlagSet, stores []string) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage: %s [-addr 127.0.0.1:8080] [-store %s] [-fail-first N]\n", cmd.Name, strings.Join(stores, "|"))
	fmt.Fprintln(w, "\nWithout BEECLOUD_APP_ID, BEECLOUD_APP_SECRET and BEECLOUD_MASTER_SECRET the shop")
	fmt.Fprintln(w, "runs offline against a local BeeCloud sandbox; with them it uses BeeCloud itself,")
	fmt.Fprintln(w, "and "+envAdminPassword+" turns the admin page (orders, refunds) on.")
	fmt.Fprintln(w, "\nFlags:")
	fs.PrintDefaults()
}

// openStore opens the chosen store, giving it 10 s to answer, so that a
// wrong URL fails at start rather than at the first payment.
func openStore(ctx context.Context, set *settings) (beecloud.Store, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	store, closeStore, err := set.store.Open(ctx, set.storeURL)
	if err != nil {
		return nil, nil, fmt.Errorf("-store %s: %w", set.store.Name, err)
	}
	return store, closeStore, nil
}

// server is what startShop returns: a shop being served, offline or not.
type server interface {
	Done() <-chan error
	Shutdown(ctx context.Context) error
}

// startShop serves the shop on ln: with BeeCloud itself when bc has every
// credential, offline with a sandbox when it has none.
func startShop(ln net.Listener, cfg shop.Config, bc beecloud.Config, stdout io.Writer) (server, error) {
	switch {
	case bc.AppID != "" && bc.AppSecret != "" && bc.MasterSecret != "":
		cfg.BeeCloud = bc
		cfg.Client = &beecloud.Client{Config: bc} // BeeCloud's REST API
		h, err := shop.New(cfg)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "Using BeeCloud itself with app %s (from BEECLOUD_APP_ID): payments are REAL.\n", bc.AppID)
		fmt.Fprintf(stdout, "Set the app's webhook URL on BeeCloud's dashboard to a public address that reaches http://%s%s.\n", ln.Addr(), shop.WebhookPath)
		if cfg.AdminPassword == "" {
			fmt.Fprintf(stdout, "The admin page (orders, refunds) is off: set %s to turn it on at %s (user admin).\n", envAdminPassword, shop.AdminPath)
		}
		return shop.Serve(ln, h), nil
	case bc.AppID != "" || bc.AppSecret != "" || bc.MasterSecret != "":
		return nil, errors.New("set all of BEECLOUD_APP_ID, BEECLOUD_APP_SECRET and BEECLOUD_MASTER_SECRET to use BeeCloud, or none to run offline")
	}
	// Resends at BeeCloud's own pace (2 s, 4 s, …), so the log reads like
	// production.
	offline, err := shop.StartOffline(ln, cfg, 2*time.Second)
	if err != nil {
		return nil, err
	}
	demo := offline.Sandbox.Apps()[0].Config
	fmt.Fprintf(stdout, "No BEECLOUD_APP_ID set: running offline with a local BeeCloud sandbox at %s (no real money moves).\n", offline.Sandbox.URL)
	fmt.Fprintf(stdout, "Demo app for this run: app_id %s, app_secret %s, master_secret %s\n", demo.AppID, demo.AppSecret, demo.MasterSecret)
	fmt.Fprintf(stdout, "Orders and refunds: http://%s%s\n", ln.Addr(), shop.AdminPath)
	return offline, nil
}

// serveUntil waits until the server stops by itself or ctx ends, and then
// shuts it down within 5 s.
func serveUntil(ctx context.Context, srv server, stdout io.Writer) error {
	select {
	case err := <-srv.Done():
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "Shutting down…")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
