package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// errNoBinaries: PostgreSQL is not installed where Debian puts it.
var errNoBinaries = errors.New("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")

// binGlob is where Debian's postgresql-<version> packages put the server
// (a variable for the test of a machine without it).
var binGlob = "/usr/lib/postgresql/*/bin"

// superuser is the bootstrap superuser initdb creates.
const superuser = "tsubasa"

// Settings for a small, disposable server on a shared machine: no
// durability (fsync, synchronous_commit and full_page_writes off: a crash
// may lose the cluster, which is thrown away anyway), no autovacuum (the
// tests ANALYZE what they measure), small buffers, and enough connections
// for two parallel tests that each race a pool of goroutines.
var serverSettings = []string{
	"fsync=off",
	"synchronous_commit=off",
	"full_page_writes=off",
	"autovacuum=off",
	"shared_buffers=16MB",
	"max_connections=80",
	"wal_level=minimal",
	"max_wal_senders=0",
	"log_min_messages=warning",
	"log_checkpoints=off",
	"unix_socket_permissions=0700",
}

// binDir returns the newest Debian PostgreSQL bin directory.
func binDir() (string, error) {
	dirs, _ := filepath.Glob(binGlob)
	dirs = slices.DeleteFunc(dirs, func(d string) bool {
		_, err := os.Stat(filepath.Join(d, "initdb"))
		return err != nil
	})
	if len(dirs) == 0 {
		return "", errNoBinaries
	}
	// The version is the directory above bin: 15, 16 … compare as numbers.
	version := func(d string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		return n
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(a) - version(b) })
	return dirs[len(dirs)-1], nil
}

// runAs is who runs initdb and the server: nil for this process's user,
// otherwise an unprivileged one (when this process is root).
type runAs struct {
	uid, gid uint32
	name     string
}

func unprivileged() (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 == nil && err2 == nil && uid != 0 {
			return &runAs{uid: uint32(uid), gid: uint32(gid), name: name}, nil
		}
	}
	return nil, errors.New("running as root, and neither the postgres nor the nobody user exists to run initdb as")
}

func (r *runAs) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	if r != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: r.uid, Gid: r.gid}
	}
	return cmd
}

// server is the running postgres process.
type server struct {
	cmd  *exec.Cmd
	done chan error
	log  string
}

func start() (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	as, err := unprivileged()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tsubasa-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, socket: dir, user: superuser, password: rand.Text(), templates: map[string]*template{}}
	if err := c.initdb(bin, as); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A free port can be taken between asking and binding: try a few.
	for range 3 {
		if c.port, err = freePort(); err != nil {
			break
		}
		if c.srv, err = c.launch(bin, as); err == nil {
			return c, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

func (c *Cluster) initdb(bin string, as *runAs) error {
	pwfile := filepath.Join(c.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(c.password+"\n"), 0o600); err != nil {
		return err
	}
	if as != nil {
		if err := chownAll(c.dir, as); err != nil {
			return err
		}
	}
	cmd := as.command(filepath.Join(bin, "initdb"), "-D", filepath.Join(c.dir, "data"), "-U", superuser,
		"--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %v: %s", err, bytes.TrimSpace(out))
	}
	return os.Remove(pwfile)
}

func chownAll(dir string, as *runAs) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(as.uid), int(as.gid))
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the server and waits until it accepts connections.
func (c *Cluster) launch(bin string, as *runAs) (*server, error) {
	logPath := filepath.Join(c.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args := []string{"-D", filepath.Join(c.dir, "data"), "-p", strconv.Itoa(c.port),
		"-k", c.socket, "-h", "127.0.0.1"}
	for _, s := range serverSettings {
		args = append(args, "-c", s)
	}
	cmd := as.command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	srv := &server{cmd: cmd, done: make(chan error, 1), log: logPath}
	go func() { srv.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return srv, nil
		}
		select {
		case werr := <-srv.done:
			return nil, fmt.Errorf("postgres exited (%v): %s", werr, tail(logPath))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = srv.kill()
			return nil, fmt.Errorf("postgres did not accept connections within a minute: %v: %s", err, tail(logPath))
		}
	}
}

// stop shuts the server down (fast mode: SIGINT) and removes the cluster.
func (c *Cluster) stop() error {
	err := c.srv.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.srv.done:
	case <-time.After(30 * time.Second):
		err = errors.Join(err, c.srv.kill(), errors.New("postgres did not stop within 30s; killed"))
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

func (s *server) kill() error {
	err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	return err
}

// tail returns the end of the server log, for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}
