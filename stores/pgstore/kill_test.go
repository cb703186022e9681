package pgstore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/stores/pgstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Environment of the child process TestKill starts.
const (
	envKillPoint   = "PGSTORE_KILL_POINT" // where the child stops for the kill
	envKillTable   = "PGSTORE_KILL_TABLE"
	envKillEffects = "PGSTORE_KILL_EFFECTS"
	envKillSecret  = "PGSTORE_KILL_SECRET"
)

// killLease is the lease of the handlers in TestKill: a redelivery waits
// for the killed child's claim to run out.
const killLease = time.Second

// Points at which the child stops for the kill.
const (
	// killBeforeEffect: Handle has started and written nothing.
	killBeforeEffect = "before-effect"
	// killAfterEffect: Handle wrote the effect in the transaction and
	// returns nil; the kill races the completion and the commit.
	killAfterEffect = "after-effect"
	// killBeforeAnswer: the completion is committed; the answer is not
	// written yet.
	killBeforeAnswer = "before-answer"
	// killOutsideTx: the control. Handle wrote the effect through the
	// pool, outside the transaction, and stops: the kill leaves the
	// effect without its completion, and the redelivery doubles it.
	killOutsideTx = "outside-tx"
	// killAnytime: the child does not stop; the parent kills it at a
	// random moment after sending the webhook.
	killAnytime = "anytime"
)

func killConfig(secret string) beecloud.Config {
	return beecloud.Config{AppID: "c5d1cba1-5e3f-4ba0-941d-9b0a09f7a7c4", MasterSecret: secret}
}

// TestKillHelper is the child process of TestKill: a webhook server with
// pgstore whose Handle writes its effect in CompleteTx's transaction. It
// prints "addr HOST:PORT" once it listens, then "at POINT" when it reaches
// the point named by envKillPoint, and waits there to be killed.
func TestKillHelper(t *testing.T) {
	point := os.Getenv(envKillPoint)
	if point == "" {
		t.Skip("the child process of TestKill")
	}
	// A child whose parent died must not run for ever.
	time.AfterFunc(time.Minute, func() { os.Exit(3) })
	say := func(line string) { fmt.Fprintln(os.Stdout, line) }
	stop := func(at string) {
		if point == at {
			say("at " + at)
			select {} // until SIGKILL
		}
	}
	pool := newPool(t)
	effects := os.Getenv(envKillEffects)
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{killConfig(os.Getenv(envKillSecret))},
		Store:  pgstore.New(pool, &pgstore.Options{Table: os.Getenv(envKillTable)}),
		Lease:  killLease,
		Logger: slog.New(slog.DiscardHandler),
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			stop(killBeforeEffect)
			if point == killOutsideTx {
				if _, err := pool.Exec(ctx, `INSERT INTO `+effects+` (key) VALUES ($1)`, n.TransactionID); err != nil {
					return err
				}
				stop(killOutsideTx)
			}
			tx, ok := pgstore.Tx(ctx)
			if !ok {
				return errors.New("Handle was not called inside CompleteTx")
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+effects+` (key) VALUES ($1)`, n.TransactionID); err != nil {
				return err
			}
			if point == killAfterEffect {
				say("at " + killAfterEffect)
			}
			return nil
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	say("addr " + ln.Addr().String())
	_ = http.Serve(ln, http.HandlerFunc( // serves until the parent kills it
		func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(stopBeforeAnswer{w, stop}, r)
		}))
}

// stopBeforeAnswer calls stop(killBeforeAnswer) before the status line.
type stopBeforeAnswer struct {
	http.ResponseWriter
	stop func(at string)
}

func (w stopBeforeAnswer) WriteHeader(code int) {
	w.stop(killBeforeAnswer)
	w.ResponseWriter.WriteHeader(code)
}

// TestKill kills a webhook server with SIGKILL at several points between
// the start of Handle and the answer, redelivers the webhook to a fresh
// handler, and checks that the effect exists exactly once: the effect and
// the completion commit together or not at all.
func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes: skipped with -short")
	}
	pool := newPool(t)
	table := newTable(t, pool)
	store := pgstore.New(pool, &pgstore.Options{Table: table})
	require.NoError(t, store.CreateSchema(context.Background()), "CreateSchema")
	effects, count := newEffects(t, pool)
	secret := "pgstore-kill-" + randomHex()
	fresh := httptest.NewServer(&beecloud.WebhookHandler{
		Apps:   beecloud.Apps{killConfig(secret)},
		Store:  store,
		Lease:  killLease,
		Logger: slog.New(slog.DiscardHandler),
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			tx, ok := pgstore.Tx(ctx)
			if !ok {
				return errors.New("Handle was not called inside CompleteTx")
			}
			_, err := tx.Exec(ctx, `INSERT INTO `+effects+` (key) VALUES ($1)`, n.TransactionID)
			return err
		},
	})
	defer fresh.Close()

	points := []string{killBeforeEffect, killAfterEffect, killBeforeAnswer, killAfterEffect, killAnytime, killAnytime, killAnytime, killOutsideTx}
	for i, point := range points {
		t.Run(fmt.Sprint(i, "-", point), func(t *testing.T) {
			id := fmt.Sprintf("kill%s%d", randomHex(), i)
			body := beecloudtest.NotificationBody(killConfig(secret), beecloud.Notification{
				ChannelType:     "WX",
				SubChannelType:  "WX_NATIVE",
				TransactionType: beecloud.TransactionPay,
				TransactionID:   id,
				TransactionFee:  100,
				TradeSuccess:    true,
			})
			before, answered := killChild(t, point, table, effects, secret, body, count, id)
			t.Logf("killed %s: effect %d before the redelivery; child answered %q", point, before, answered)
			switch point {
			case killBeforeEffect:
				assert.Equal(t, 0, before, "effects after a kill before the effect")
			case killBeforeAnswer, killOutsideTx:
				assert.Equal(t, 1, before, "effects after a kill after the commit")
			}
			// BeeCloud sends again until it is answered success: 409
			// while the dead child's claim lasts. The polling stops at
			// the first other answer, which must be success.
			var (
				status int
				text   string
				err    error
			)
			require.Eventually(t, func() bool {
				status, text, err = send(fresh.URL, body)
				return err != nil || status != http.StatusConflict
			}, 10*killLease, 100*time.Millisecond, "redelivery still answered 409 after %v; want success once the dead child's claim has run out", 10*killLease)
			require.NoError(t, err, "redelivery")
			require.Equal(t, http.StatusOK, status, "status of the redelivery's answer %q", text)
			require.Equal(t, "success", text, "redelivery's answer")
			status, text = post(t, fresh.URL, body)
			require.Equal(t, http.StatusOK, status, "status of the second redelivery's answer %q", text)
			require.Equal(t, "success", text, "second redelivery's answer")
			if point == killOutsideTx {
				// The control: without the transaction, the kill doubles
				// the effect, and this test sees it.
				assert.Equal(t, 2, count(id), "effects written outside the transaction, after the kill and the redeliveries (the double CompleteTx prevents)")
				return
			}
			assert.Equal(t, 1, count(id), "effects after the kill at %s and the redeliveries", point)
		})
	}
}

// killChild starts TestKillHelper, sends it body, kills it with SIGKILL at
// point, and returns the effects of id then and the answer the webhook
// got, if any.
func killChild(t *testing.T, point, table, effects, secret string, body []byte, count func(string) int, id string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envKillPoint+"="+point, envKillTable+"="+table, envKillEffects+"="+effects, envKillSecret+"="+secret)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err, "StdoutPipe")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start(), "starting the child")
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill() // the child may have exited already
			_ = cmd.Wait()         // killed: the exit status says so
		}
	}()
	lines := bufio.NewScanner(stdout)
	// The messages read stderr only once the child has failed: the
	// child may still be writing to it otherwise.
	next := func() string {
		t.Helper()
		if !lines.Scan() {
			require.FailNowf(t, "the child ended early", "before %s: %v\n%s", point, lines.Err(), stderr.String())
		}
		return lines.Text()
	}
	first := next()
	addr, ok := strings.CutPrefix(first, "addr ")
	if !ok {
		require.FailNowf(t, "the child did not print its address", "it printed %q\n%s", first, stderr.String())
	}
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/", "application/json", bytes.NewReader(body))
		if err != nil {
			answer <- "(no answer: " + err.Error() + ")"
			return
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		answer <- fmt.Sprintf("%d %s", resp.StatusCode, text)
	}()
	if point == killAnytime {
		time.Sleep(rand.N(30 * time.Millisecond)) // the random moment of the kill
	} else {
		require.Equal(t, "at "+point, next(), "what the child printed")
	}
	// SIGKILL: no deferred function, no rollback, no answer.
	require.NoError(t, cmd.Process.Kill(), "killing the child")
	killed = true
	_ = cmd.Wait() // killed: the exit status says so
	return count(id), <-answer
}

// post sends body to url and returns the answer's status and text.
func post(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	status, text, err := send(url, body)
	require.NoError(t, err, "POST %s", url)
	return status, text
}

// send is post for any goroutine: it returns the error instead of failing
// the test.
func send(url string, body []byte) (int, string, error) {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(text), nil
}

func randomHex() string {
	return fmt.Sprintf("%016x", rand.Uint64())
}
