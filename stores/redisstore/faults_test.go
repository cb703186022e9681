package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/paybutton/beecloud/storetest"
	"github.com/redis/go-redis/v9"
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
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s := &redisServer{t: t, aof: "yes", bin: bin, dir: t.TempDir(), addr: freeAddr(t), args: args}
	if os.Getenv(envControl) != "" {
		s.aof = "no"
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.kill() })
	return s
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

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
	for range 100 {
		if c.Ping(context.Background()).Err() == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.kill()
	return errors.New("redis-server did not answer PING within 5s")
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

// envControl, set, makes TestFaults the control that
// TestFaultsControl runs: Redis without its append-only file, and a
// shorter run.
const envControl = "REDISSTORE_FAULTS_CONTROL"

// TestFaults runs the fault-injection suite: three handlers on one Redis
// through a proxy that cuts their connections, Redis killed with SIGKILL
// and started again (with its append-only file) twice.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault-injection suite: skipped with -short")
	}
	control := os.Getenv(envControl) != ""
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
				PoolSize:    10,
			})
			t.Cleanup(func() { c.Close() })
			// The control's Redis has no append-only file: New would
			// refuse it.
			return newStore(t, c, &redisstore.Options{Prefix: prefix, AcceptDataLoss: control})
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
	if control {
		// Shorter, but long enough that the restarts forget completions
		// and claims that later deliveries find missing.
		opts.Transactions, opts.Spread = 150, 8*time.Second
	}
	storetest.RunFaults(t, opts)
}

// TestFaultsControl runs TestFaults in a child process against a Redis
// without persistence, and checks that it fails with transactions handled
// twice: the restarts in TestFaults do test that completions survive them.
func TestFaultsControl(t *testing.T) {
	if testing.Short() {
		t.Skip("fault-injection suite: skipped with -short")
	}
	if os.Getenv(envControl) != "" {
		t.Skip("the child of TestFaultsControl runs TestFaults only")
	}
	startRedis(t) // skips or fails here rather than in the child
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaults$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envControl+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("TestFaults passed on a Redis without persistence; want transactions handled twice\n%s", out)
	}
	if !regexp.MustCompile(`handled twice [1-9]`).Match(out) {
		t.Fatalf("TestFaults on a Redis without persistence failed, but not with transactions handled twice\n%s", out)
	}
	t.Logf("%s", regexp.MustCompile(`RunFaults: .*`).Find(out))
}

// quietLogger drops go-redis's internal log lines.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
