package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/paybutton/beecloud/storetest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redisServer is a Redis server of the test's own, which it may kill and
// start again without disturbing the shared one other tests use. It keeps
// an append-only file, so that a restart keeps what was written.
type redisServer struct {
	t    testing.TB
	aof  string // "yes", or "no" for the control
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
	args []string // more settings, as command-line options
}

// startRedis starts a redisServer on a free loopback port, with an
// append-only file flushed at every write (appendfsync always) and the
// settings args, or skips t (fails it under CI) when redis-server is not
// installed.
func startRedis(t testing.TB, args ...string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server is not installed (apt-get install redis-server): " + err.Error()
		if os.Getenv("CI") == "true" {
			require.FailNow(t, msg)
		}
		t.Skip(msg)
	}
	s := &redisServer{t: t, aof: "yes", bin: bin, dir: t.TempDir(), addr: freeAddr(t), args: args}
	require.NoError(t, s.start(), "starting redis-server")
	t.Cleanup(func() { s.kill() })
	return s
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	defer ln.Close()
	return ln.Addr().String()
}

// start starts the server and waits until it answers PING. It may run on
// any goroutine (RunFaults restarts the server from one of its own): if the
// server does not answer, the wait fails s.t with assert, and start
// returns an error.
func (s *redisServer) start() error {
	_, port, _ := net.SplitHostPort(s.addr)
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--appendonly", s.aof, "--appendfsync", "always",
		"--dir", s.dir, "--save", "", "--daemonize", "no"}, s.args...)
	s.cmd = exec.Command(s.bin, args...)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1})
	defer c.Close()
	// A loaded machine may take seconds to start it (and to replay its
	// append-only file).
	answers := func() bool { return c.Ping(context.Background()).Err() == nil }
	if assert.Eventually(s.t, answers, 30*time.Second, 50*time.Millisecond, "PING to redis-server on %s", s.addr) {
		return nil
	}
	s.kill()
	return errors.New("redis-server did not answer PING within 30s")
}

// kill kills the server with SIGKILL: no chance to save anything beyond
// what the append-only file already holds.
func (s *redisServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill() // it may have exited already
		_ = s.cmd.Wait()         // killed: the exit status says so
		s.cmd = nil
	}
}

// restart kills the server, leaves it down for a while and starts it again
// on the same port and directory.
func (s *redisServer) restart(down time.Duration) error {
	s.kill()
	time.Sleep(down)
	return s.start()
}

// TestFaults runs the fault-injection suite: three handlers on one Redis
// through a proxy that cuts their connections, Redis killed with SIGKILL
// and started again (with its append-only file) twice.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault-injection suite: skipped with -short")
	}
	// go-redis logs every failed dial; the cuts make hundreds.
	redis.SetLogger(quietLogger{})
	srv := startRedis(t)
	proxy := storetest.NewProxy(t, srv.addr)
	prefix := "beecloud-faults:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	opts := storetest.FaultOptions{
		NewInstance: func(t *testing.T) beecloud.Store {
			c := redis.NewClient(&redis.Options{
				Addr:        proxy.Addr(),
				DialTimeout: time.Second,
				ReadTimeout: time.Second,
				PoolSize:    50,
			})
			t.Cleanup(func() { c.Close() })
			return newStore(t, c, &redisstore.Options{Prefix: prefix})
		},
		Proxy:        proxy,
		RestartCount: 2,
		Restart: func(n int) error {
			if err := srv.restart(300 * time.Millisecond); err != nil {
				return fmt.Errorf("restart %d: %w", n, err)
			}
			return nil
		},
	}
	storetest.RunFaults(t, opts)
}

// TestKillKeepsWrites completes and claims keys, kills Redis with SIGKILL
// and starts it again: with appendfsync always every acknowledged
// completion and claim is still there; without the append-only file (the
// control, which shows that the kill does test something) every one is
// forgotten. TestFaults relies on the first for its restarts.
func TestKillKeepsWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		aof   string
		keeps bool
	}{
		{"appendonly yes, appendfsync always", "yes", true},
		{"control: no append-only file", "no", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startRedis(t)
			if srv.aof != tc.aof {
				srv.aof = tc.aof
				require.NoError(t, srv.restart(0), "restarting redis-server with appendonly %s", tc.aof)
			}
			c := redis.NewClient(&redis.Options{Addr: srv.addr})
			t.Cleanup(func() { c.Close() })
			s := newStore(t, c, &redisstore.Options{AcceptDataLoss: !tc.keeps})
			ctx := context.Background()
			const n = 100
			for i := range n {
				done, held := fmt.Sprintf("done%d", i), fmt.Sprintf("held%d", i)
				for _, k := range []string{done, held} {
					mustClaim(t, s, k, "a", time.Hour, beecloud.ClaimOK)
				}
				require.NoError(t, s.Complete(ctx, done, "a"), "Complete(%q)", done)
			}
			require.NoError(t, srv.restart(0), "restarting redis-server")
			kept := 0
			for i := range n {
				for k, want := range map[string]beecloud.ClaimState{
					fmt.Sprintf("done%d", i): beecloud.ClaimDone,
					fmt.Sprintf("held%d", i): beecloud.ClaimBusy,
				} {
					st, err := s.Claim(ctx, k, "b", time.Hour)
					require.NoError(t, err, "Claim(%q) after the restart", k)
					if st == want {
						kept++
					}
				}
			}
			t.Logf("%d of %d acknowledged writes kept through SIGKILL", kept, 2*n)
			if tc.keeps {
				assert.Equal(t, 2*n, kept, "acknowledged completions and claims that survived SIGKILL; want all")
			} else {
				assert.Zero(t, kept, "control: writes that survived SIGKILL without an append-only file; want none (or the kill tests nothing)")
			}
		})
	}
}

// quietLogger drops go-redis's internal log lines.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
