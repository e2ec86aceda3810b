package adminsock

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

	"tsubasa/provider/admin/adminapi"
)

// Handler runs the admin operations (tsubasa/provider/admin's Service).
// Its error is an *adminapi.Error for the operator, or an internal failure
// that is logged and answered with a request id only.
type Handler interface {
	Handle(ctx context.Context, op string, req adminapi.Request) (any, error)
}

// Server serves the admin API (POST /v1/<op>, JSON in and out) on a
// Unix socket beside the database. Only the server's own user and root may
// use it: the socket is mode 0600 and, where the system tells, each
// connection's peer user is checked as well.
type Server struct {
	h    Handler
	path string
	ln   net.Listener
	srv  *http.Server
	log  *slog.Logger
	once sync.Once
}

// MaxPath is the longest Unix socket path Linux and the BSDs accept
// (sun_path less its terminating NUL, on the strictest of them).
const MaxPath = 103

// Listen listens on socketPath. A socket file left by a server that died
// is replaced; one where a server still answers is an error.
func Listen(h Handler, socketPath string, log *slog.Logger) (*Server, error) {
	if len(socketPath) > MaxPath {
		return nil, fmt.Errorf("admin socket path %s is longer than %d bytes; set admin.socket to a shorter one",
			socketPath, MaxPath)
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
	s := &Server{h: h, path: socketPath, log: log}
	s.ln = &peerCheckListener{Listener: ln, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/{op...}", s.handle)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, &adminapi.Error{Message: "unknown admin endpoint; use POST /v1/<op>"})
	})
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
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
func (s *Server) Path() string { return s.path }

// Serve answers requests until ctx ends (then lets running operations
// finish, for up to 10 seconds) or Close is called.
func (s *Server) Serve(ctx context.Context) error {
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
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = s.srv.Close()
		if cerr := s.ln.Close(); err == nil && cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	})
	return err
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	op := r.PathValue("op")
	id := requestID()
	log := s.log.With("request_id", id, "op", op)
	out, err := s.h.Handle(r.Context(), op, adminapi.Request{
		Body: r.Body, ContentType: r.Header.Get("Content-Type"), Query: r.URL.Query()})
	status := http.StatusOK
	if err != nil {
		var ae *adminapi.Error
		if !errors.As(err, &ae) {
			log.ErrorContext(r.Context(), "admin operation failed", "error", err)
			ae = adminapi.Internal(id)
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
