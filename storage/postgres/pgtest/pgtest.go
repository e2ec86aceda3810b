package pgtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv is the variable that turns a missing PostgreSQL into a test
// failure instead of a skip.
const RequireEnv = "TSUBASA_REQUIRE_POSTGRES"

var (
	startOnce sync.Once
	shared    *Cluster
	startErr  error
)

// Main runs the tests of m and then stops the cluster, if a test started
// one. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain with work of its own after
// the tests: it returns m.Run's code once the cluster is stopped.
func Run(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// Get returns the shared cluster, starting it on first use. Without
// PostgreSQL binaries it skips t, or fails it when RequireEnv is 1; a
// cluster that does not start fails t.
func Get(t testing.TB) *Cluster {
	t.Helper()
	startOnce.Do(func() { shared, startErr = start() })
	switch {
	case errors.Is(startErr, errNoBinaries) && os.Getenv(RequireEnv) == "1":
		t.Fatalf("PostgreSQL is required (%s=1) but %v: apt-get install postgresql", RequireEnv, startErr)
	case errors.Is(startErr, errNoBinaries):
		t.Skipf("PostgreSQL tests skipped: %v (apt-get install postgresql); set %s=1 to make this a failure", startErr, RequireEnv)
	case startErr != nil:
		t.Fatalf("pgtest: %v", startErr)
	}
	return shared
}

// NewDatabase returns the URL of a new database copied from template (""
// for an empty one) in the shared cluster, dropped when t ends. The URL
// reaches the server through its Unix socket.
func NewDatabase(t testing.TB, template string) string {
	t.Helper()
	return Get(t).NewDatabase(t, template)
}

// Template is Cluster.Template on the shared cluster.
func Template(t testing.TB, name string, setup func(url string) error) string {
	t.Helper()
	return Get(t).Template(t, name, setup)
}

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	dir      string // holds data/, the socket, the log
	socket   string // socket directory
	port     int
	user     string // the database superuser
	password string // for TCP connections
	srv      *server

	seq atomic.Int64 // names databases

	mu        sync.Mutex
	templates map[string]*template
}

type template struct {
	once sync.Once
	err  error
}

// URL returns the URL of database db over the Unix socket.
func (c *Cluster) URL(db string) string {
	q := url.Values{"host": {c.socket}, "port": {fmt.Sprint(c.port)}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User(c.user), Path: "/" + db, RawQuery: q.Encode()}).String()
}

// TCPURL returns the URL of database db over TCP on 127.0.0.1, with the
// superuser's password (no TLS: the server has no certificate).
func (c *Cluster) TCPURL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(c.user, c.password),
		Host: fmt.Sprintf("127.0.0.1:%d", c.port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates a database copied from template ("" for an empty
// one) and drops it when t ends.
func (c *Cluster) NewDatabase(t testing.TB, template string) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%s", c.seq.Add(1), strings.ToLower(rand.Text()[:8]))
	if template == "" {
		template = "template0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.admin(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(template)+""); err != nil {
		t.Fatalf("pgtest: create database from %s: %v", template, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends what a test left connected, such as a store it did
		// not close because it failed half-way.
		if err := c.admin(ctx, "DROP DATABASE "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.URL(name)
}

// Template returns the name of a template database called name, built once
// per test binary by setup (given the URL of the new, empty database) and
// then closed to connections, as CREATE DATABASE … TEMPLATE needs.
func (c *Cluster) Template(t testing.TB, name string, setup func(url string) error) string {
	t.Helper()
	c.mu.Lock()
	tp := c.templates[name]
	if tp == nil {
		tp = &template{}
		c.templates[name] = tp
	}
	c.mu.Unlock()
	tp.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if tp.err = c.admin(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE template0"); tp.err != nil {
			return
		}
		if tp.err = setup(c.URL(name)); tp.err != nil {
			return
		}
		tp.err = c.admin(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
	})
	if tp.err != nil {
		t.Fatalf("pgtest: template %s: %v", name, tp.err)
	}
	return name
}

// admin runs one statement as the superuser in the postgres database.
func (c *Cluster) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }
