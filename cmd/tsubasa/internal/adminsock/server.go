package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// adminServer serves the admin API (POST /v1/<op>, JSON in and out) on a
// Unix socket beside the database. Only the server's own user and root may
// use it: the socket is mode 0600 and, where the system tells, each
// connection's peer user is checked as well.
type adminServer struct {
	ops  *adminOps
	path string
	ln   net.Listener
	srv  *http.Server
	log  *slog.Logger
	once sync.Once
}

// maxSocketPath is the longest Unix socket path Linux and the BSDs accept
// (sun_path less its terminating NUL, on the strictest of them).
const maxSocketPath = 103

// newAdminServer listens on socketPath. A socket file left by a server that
// died is replaced; one where a server still answers is an error.
func newAdminServer(ops *adminOps, socketPath string, log *slog.Logger) (*adminServer, error) {
	if len(socketPath) > maxSocketPath {
		return nil, fmt.Errorf("admin socket path %s is longer than %d bytes; set admin.socket to a shorter one",
			socketPath, maxSocketPath)
	}
	if err := os.MkdirAll(filepath.Dir(socketPath), 0o700); err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := removeStaleSocket(socketPath); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", socketPath)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	// Before any connection is served: the peer check below covers the
	// moment between listen and chmod where the system supports it.
	if err := os.Chmod(socketPath, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	s := &adminServer{ops: ops, path: socketPath, log: log}
	s.ln = &peerCheckListener{Listener: ln, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/{op...}", s.handle)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, &adminError{Message: "unknown admin endpoint; use POST /v1/<op>"})
	})
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// startAdmin serves the admin API beside the database until ctx ends; wg
// waits for running operations to finish, so wait on it before closing the
// store. Keys rotate through the running provider, which signs with the
// new keys at once.
func (s *server) startAdmin(ctx context.Context, wg *sync.WaitGroup) error {
	ops := newAdminOps(s.deps, s.provider.RotateKeys)
	as, err := newAdminServer(ops, s.deps.cfg.AdminSocket(), s.deps.log)
	if err != nil {
		return err
	}
	wg.Go(func() {
		if err := as.Serve(ctx); err != nil {
			s.deps.log.Error("admin socket stopped", "error", err)
		}
		_ = as.Close()
	})
	return nil
}

// removeStaleSocket removes path when it is a socket nobody answers on.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("admin socket: %s exists and is not a socket; remove it or set admin.socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("admin socket: another server answers on %s", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("admin socket: %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("admin socket: removing stale %s: %w", path, err)
	}
	return nil
}

// Path returns the socket path.
func (s *adminServer) Path() string { return s.path }

// Serve answers requests until ctx ends (then lets running operations
// finish, for up to 10 seconds) or Close is called.
func (s *adminServer) Serve(ctx context.Context) error {
	// Operations run to completion on shutdown: a half-done import or key
	// rotation helps nobody.
	s.srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(sctx); err != nil {
			s.srv.Close()
		}
	})
	defer stop()
	s.log.Info("admin socket listening", "path", s.path)
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving at once and removes the socket file.
func (s *adminServer) Close() error {
	var err error
	s.once.Do(func() {
		err = s.srv.Close()
		if cerr := s.ln.Close(); err == nil && cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	})
	return err
}

func (s *adminServer) handle(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	op := r.PathValue("op")
	id := requestID()
	log := s.log.With("request_id", id, "op", op)
	h, ok := adminRoutes[op]
	if !ok {
		writeJSON(w, http.StatusNotFound, &adminError{Message: fmt.Sprintf("unknown operation %q", op)})
		return
	}
	out, err := h(r.Context(), s.ops, adminRequest{Body: r.Body, Query: r.URL.Query()})
	status := http.StatusOK
	if err != nil {
		ae := asAdminError(err)
		if ae == nil {
			log.ErrorContext(r.Context(), "admin operation failed", "error", err)
			ae = &adminError{Status: http.StatusInternalServerError,
				Message: "internal error; see the server log, request_id " + id}
		}
		status, out = ae.Status, ae
	}
	writeJSON(w, status, out)
	log.InfoContext(r.Context(), "admin request", "status", status,
		"duration_ms", time.Since(start).Milliseconds())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// peerCheckListener drops connections from users other than the server's
// own and root, before a byte is read.
type peerCheckListener struct {
	net.Listener
	log *slog.Logger
}

func (l *peerCheckListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if err := checkPeer(c); err != nil {
			l.log.Warn("admin socket connection refused", "error", err)
			c.Close()
			continue
		}
		return c, nil
	}
}

// peerAllowed reports whether a peer running as uid may use the socket of a
// server running as self.
func peerAllowed(uid, self uint32) bool { return uid == self || uid == 0 }
