package pgstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// pgServer is a PostgreSQL server of the test's own, in a temporary
// directory on a free loopback port, which the test may stop and start
// without disturbing the shared server other tests use.
type pgServer struct {
	bin  string // directory of initdb and pg_ctl
	dir  string // holds data/, the log and the socket
	port int
	as   []string // runs a command as the postgres user when we are root
}

// startPostgres initialises and starts a pgServer, or skips t (fails it
// under CI) when PostgreSQL's binaries are not installed. The server is
// stopped and its directory removed when t ends.
func startPostgres(t testing.TB) *pgServer {
	t.Helper()
	bin := pgBin()
	if bin == "" {
		msg := "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)"
		if os.Getenv("CI") == "true" {
			require.FailNow(t, msg)
		}
		t.Skip(msg)
	}
	dir, err := os.MkdirTemp("", "beecloud-pg-")
	require.NoError(t, err, "os.MkdirTemp")
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &pgServer{bin: bin, dir: dir, port: freePort(t)}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: the server runs as postgres,
		// which must own its directory.
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root, and no postgres user to run PostgreSQL as")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid), "os.Chown(%s)", dir)
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	out, err := s.run("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	require.NoError(t, err, "initdb\n%s", out)
	require.NoError(t, s.start(), "starting PostgreSQL")
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Log(err)
		}
	})
	return s
}

// pgBin returns the newest /usr/lib/postgresql/*/bin (Debian's layout), or
// the directory of pg_ctl on PATH, or "".
func pgBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }

// Addr returns host:port.
func (s *pgServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// url returns the URL of database postgres through addr (the server's own
// address, or a proxy's).
func (s *pgServer) url(addr string, maxConns int) string {
	return fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable&connect_timeout=5&pool_max_conns=%d", addr, maxConns)
}

func (s *pgServer) run(name string, args ...string) ([]byte, error) {
	argv := append(append(s.as[:len(s.as):len(s.as)], filepath.Join(s.bin, name)), args...)
	return exec.Command(argv[0], argv[1:]...).CombinedOutput()
}

// start starts the server and waits until it accepts connections. fsync is
// off: the tests kill the server, not the machine.
func (s *pgServer) start() error {
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off -c max_connections=200", s.port, s.dir)
	out, err := s.run("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "log"), "-w", "-t", "30", "-o", opts, "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, s.log())
	}
	return nil
}

// stop stops the server at once, as a crash would: in-flight transactions
// are lost, committed ones are replayed from the WAL at the next start.
func (s *pgServer) stop() error {
	out, err := s.run("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

func (s *pgServer) restart(down time.Duration) error {
	if err := s.stop(); err != nil {
		return err
	}
	time.Sleep(down)
	return s.start()
}

// log returns the end of the server's log, for error messages.
func (s *pgServer) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// pool returns a pool to the server through addr.
func (s *pgServer) pool(t testing.TB, addr string, maxConns int) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), s.url(addr, maxConns))
	require.NoError(t, err, "pgxpool.New")
	t.Cleanup(pool.Close)
	return pool
}
