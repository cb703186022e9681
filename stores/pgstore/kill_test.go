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
	if err != nil {
		t.Fatal(err)
	}
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
	if err := store.CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
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
				if before != 0 {
					t.Errorf("effects after a kill before the effect = %d; want 0", before)
				}
			case killBeforeAnswer, killOutsideTx:
				if before != 1 {
					t.Errorf("effects after a kill after the commit = %d; want 1", before)
				}
			}
			// BeeCloud sends again until it is answered success: 409
			// while the dead child's claim lasts.
			deadline := time.Now().Add(10 * killLease)
			for {
				status, text := post(t, fresh.URL, body)
				if status == http.StatusOK && text == "success" {
					break
				}
				if status != http.StatusConflict || time.Now().After(deadline) {
					t.Fatalf("redelivery answered %d %q; want success, or 409 while the claim lasts", status, text)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if status, text := post(t, fresh.URL, body); status != http.StatusOK || text != "success" {
				t.Fatalf("second redelivery answered %d %q; want success", status, text)
			}
			if point == killOutsideTx {
				// The control: without the transaction, the kill doubles
				// the effect, and this test sees it.
				if n := count(id); n != 2 {
					t.Errorf("effects written outside the transaction, after the kill and the redeliveries = %d; want 2 (the double CompleteTx prevents)", n)
				}
				return
			}
			if n := count(id); n != 1 {
				t.Errorf("effects after the kill at %s and the redeliveries = %d; want exactly 1", point, n)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill() // the child may have exited already
			_ = cmd.Wait()         // killed: the exit status says so
		}
	}()
	lines := bufio.NewScanner(stdout)
	next := func() string {
		if !lines.Scan() {
			t.Fatalf("the child ended before %s: %v\n%s", point, lines.Err(), stderr.String())
		}
		return lines.Text()
	}
	addr, ok := strings.CutPrefix(next(), "addr ")
	if !ok {
		t.Fatalf("the child did not print its address\n%s", stderr.String())
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
		time.Sleep(rand.N(30 * time.Millisecond))
	} else if line := next(); line != "at "+point {
		t.Fatalf("the child printed %q; want %q", line, "at "+point)
	}
	// SIGKILL: no deferred function, no rollback, no answer.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed = true
	_ = cmd.Wait() // killed: the exit status says so
	return count(id), <-answer
}

func post(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(text)
}

func randomHex() string {
	return fmt.Sprintf("%016x", rand.Uint64())
}
