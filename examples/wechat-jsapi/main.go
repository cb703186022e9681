// Command wechat-jsapi is a page that takes WeChat Pay inside WeChat
// (微信公众号支付, instant_channel "wx") with BeeCloud's pay button: it gets
// the buyer's openid through WeChat's web OAuth (snsapi_base), then calls
// BC.click with the openid and reacts to wxJsapiSuccess and wxJsapiFail.
//
//	go run ./examples/wechat-jsapi
//
// Without credentials it runs offline: a fake WeChat OAuth endpoint in this
// program hands out a test openid, and a local BeeCloud sandbox plays
// WeChat's payment sheet and sends the webhook. With BEECLOUD_APP_ID,
// BEECLOUD_APP_SECRET, BEECLOUD_MASTER_SECRET, WECHAT_APPID and
// WECHAT_SECRET set it talks to BeeCloud and WeChat; the page must then be
// opened inside WeChat, on the domain set as the Official Account's
// 网页授权域名 (see -base-url).
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
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/examples/wechat-jsapi/wxshop"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the usage is printed
		}
		fmt.Fprintln(os.Stderr, "wechat-jsapi:", err)
		os.Exit(1)
	}
}

// fakeWeChatPrefix is where the offline fake WeChat OAuth is served.
const fakeWeChatPrefix = "/fake-wechat"

// run serves the page until ctx ends; ready, if not nil, is called with
// its URL once it serves.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(url string)) error {
	addr, baseURL, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w\n(is another program using it? choose another address with -addr)", addr, err)
	}
	defer ln.Close()
	url := "http://" + ln.Addr().String()

	cfg := wxshop.Config{BaseURL: baseURL, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	fake, closeSandbox, err := configure(&cfg, url, getenv, stdout)
	if err != nil {
		return err
	}
	defer closeSandbox()
	h, err := wxshop.New(cfg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	if fake != nil {
		mux.Handle(fakeWeChatPrefix+"/", fake)
	}
	srv := newServer(mux)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "Ready: open %s/ (Ctrl-C to stop).\n", url)
	if ready != nil {
		ready(url)
	}
	return serveUntil(ctx, srv, served, stdout)
}

// parseFlags returns -addr and -base-url.
func parseFlags(args []string, stderr io.Writer) (addr, baseURL string, err error) {
	fs := flag.NewFlagSet("wechat-jsapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&addr, "addr", "127.0.0.1:8081", "the listen address")
	fs.StringVar(&baseURL, "base-url", "", "the public URL WeChat redirects back to, such as https://pay.example.com (default: the URL the browser used)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./examples/wechat-jsapi [-addr 127.0.0.1:8081] [-base-url https://pay.example.com]")
		fmt.Fprintln(stderr, "\nWithout credentials it runs offline (fake WeChat OAuth, local BeeCloud sandbox). With")
		fmt.Fprintln(stderr, "BEECLOUD_APP_ID, BEECLOUD_APP_SECRET, BEECLOUD_MASTER_SECRET, WECHAT_APPID and WECHAT_SECRET")
		fmt.Fprintln(stderr, "it uses BeeCloud and WeChat; open it inside WeChat on the Official Account's 网页授权域名.")
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return "", "", err
	}
	if fs.NArg() > 0 {
		return "", "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return addr, baseURL, nil
}

// configure fills cfg's credentials from the environment: BeeCloud and
// WeChat themselves when every variable is set, or, when none is, a local
// sandbox and a fake WeChat OAuth, which it returns with a function that
// stops the sandbox.
func configure(cfg *wxshop.Config, url string, getenv func(string) string, stdout io.Writer) (*wxshop.FakeWeChat, func(), error) {
	cfg.BeeCloud = beecloud.Config{
		AppID:        getenv("BEECLOUD_APP_ID"),
		AppSecret:    getenv("BEECLOUD_APP_SECRET"),
		MasterSecret: getenv("BEECLOUD_MASTER_SECRET"),
	}
	cfg.OAuth = wxshop.OAuth{AppID: getenv("WECHAT_APPID"), Secret: getenv("WECHAT_SECRET")}
	set := 0
	for _, v := range []string{cfg.BeeCloud.AppID, cfg.BeeCloud.AppSecret, cfg.BeeCloud.MasterSecret, cfg.OAuth.AppID, cfg.OAuth.Secret} {
		if v != "" {
			set++
		}
	}
	switch set {
	case 5:
		fmt.Fprintf(stdout, "Using BeeCloud (app %s) and WeChat (Official Account %s): payments are REAL.\n", cfg.BeeCloud.AppID, cfg.OAuth.AppID)
		fmt.Fprintln(stdout, "Open the page inside WeChat, on the Official Account's 网页授权域名 (pass it as -base-url), with its webhook URL set on BeeCloud's dashboard to …"+wxshop.WebhookPath+".")
		return nil, func() {}, nil
	case 0:
		return configureOffline(cfg, url, stdout)
	}
	return nil, nil, errors.New("set all of BEECLOUD_APP_ID, BEECLOUD_APP_SECRET, BEECLOUD_MASTER_SECRET, WECHAT_APPID and WECHAT_SECRET, or none to run offline")
}

// configureOffline starts a sandbox whose app takes WeChat JSAPI and sends
// its webhooks to the page at url, and points cfg at it and at a fake
// WeChat OAuth served under fakeWeChatPrefix.
func configureOffline(cfg *wxshop.Config, url string, stdout io.Writer) (*wxshop.FakeWeChat, func(), error) {
	sandbox := beecloudtest.NewUnstartedSandbox(beecloudtest.App{
		Config:     beecloud.Config{AppID: demoSecret(), AppSecret: demoSecret(), MasterSecret: demoSecret()},
		Channels:   []beecloud.Channel{beecloud.ChannelWx},
		WebhookURL: url + wxshop.WebhookPath,
	})
	sandbox.RetryBase = 2 * time.Second
	if err := sandbox.StartAt("127.0.0.1:0"); err != nil {
		return nil, nil, err
	}
	cfg.BeeCloud = sandbox.Apps()[0].Config
	cfg.BeeCloud.ScriptURL = sandbox.ScriptURL()

	fake := &wxshop.FakeWeChat{AppID: "wx" + demoSecret()[:16], Secret: demoSecret(), OpenID: "oFakeWeChatUser" + demoSecret()[:13]}
	cfg.OAuth = wxshop.OAuth{
		AppID:        fake.AppID,
		Secret:       fake.Secret,
		AuthorizeURL: url + fakeWeChatPrefix + "/connect/oauth2/authorize",
		TokenURL:     url + fakeWeChatPrefix + "/sns/oauth2/access_token",
	}
	fmt.Fprintf(stdout, "No credentials set: running offline with a fake WeChat OAuth (openid %s)\n", fake.OpenID)
	fmt.Fprintf(stdout, "and a local BeeCloud sandbox at %s that plays WeChat's payment sheet (no real money moves).\n", sandbox.URL)
	return fake, sandbox.Close, nil
}

// newServer returns the page's server, with timeouts so that a slow or
// stalled client cannot hold a connection for long.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second, // the OAuth callback waits for WeChat
		IdleTimeout:       2 * time.Minute,
	}
}

// serveUntil waits until the server stops by itself or ctx ends, and then
// shuts it down.
func serveUntil(ctx context.Context, srv *http.Server, served <-chan error, stdout io.Writer) error {
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "Shutting down…")
	// Requests under way get a second to finish; then every connection is
	// cut, for a spare one a browser opened and never used would hold
	// Shutdown for 5 s.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return srv.Close()
	}
	return nil
}

// demoSecret returns a random UUID, the shape of BeeCloud's App IDs and
// secrets, for the sandbox's demo app.
func demoSecret() string {
	h := beecloud.NewOutTradeNo() // 32 random hex digits
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
