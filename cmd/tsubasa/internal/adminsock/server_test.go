package adminsock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsubasa/provider/admin/adminapi"
)

// echo is an operations table for the transport's own tests: "echo"
// answers its request, "refuse" reports an operator's error, "fail" an
// internal one whose text must never reach the caller, and anything else
// is unknown, as the admin service answers.
type echo struct{}

type echoIn struct {
	Text string `json:"text"`
}

func (echo) Handle(_ context.Context, op string, req adminapi.Request) (any, error) {
	switch op {
	case "echo":
		var in echoIn
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
			return nil, adminapi.Invalid("", "malformed request: %v", err)
		}
		return echoIn{Text: in.Text + "|" + req.ContentType + "|" + req.Query.Get("q")}, nil
	case "refuse":
		return nil, adminapi.Conflict("id", "client %q already exists", "web")
	case "fail":
		return nil, errors.New("bolt: page 7 corrupt at /var/lib/secret-path")
	}
	return nil, adminapi.NotFound("unknown operation %q", op)
}

// socketPath is short: sun_path holds about 100 bytes, and a test's
// temporary directory can be longer.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "as")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "a.sock")
}

func serve(t *testing.T, path string) *Server {
	t.Helper()
	srv, err := Listen(echo{}, path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	return srv
}

// TestClientAndDirectAnswerAlike: a call through the socket and the same
// call in process give the same result and the same operator's error; an
// internal failure reaches the caller only as a request id.
func TestClientAndDirectAnswerAlike(t *testing.T) {
	t.Parallel()
	path := socketPath(t)
	serve(t, path)
	c, ok := Dial(path)
	if !ok {
		t.Fatal("Dial: no server found on a listening socket")
	}
	for name, r := range map[string]Runner{"socket": c, "direct": Direct{Handler: echo{}}} {
		var out echoIn
		req := adminapi.Request{Body: strings.NewReader(`{"text":"hi"}`), ContentType: "text/csv", Query: map[string][]string{"q": {"v"}}}
		if err := r.Run(t.Context(), "echo", req, &out); err != nil || !strings.HasPrefix(out.Text, "hi|") || !strings.HasSuffix(out.Text, "|v") {
			t.Errorf("%s: echo = %q, %v", name, out.Text, err)
		}
		err := r.Run(t.Context(), "refuse", adminapi.Request{Body: strings.NewReader(`{}`)}, &out)
		var ae *adminapi.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Field != "id" || !strings.Contains(ae.Message, `"web" already exists`) {
			t.Errorf("%s: refuse = %#v", name, err)
		}
		if err := r.Run(t.Context(), "nothing/here", adminapi.Request{}, &out); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
			t.Errorf("%s: unknown operation = %v", name, err)
		}
	}
	err := c.Run(t.Context(), "fail", adminapi.Request{Body: strings.NewReader(`{}`)}, &echoIn{})
	var ae *adminapi.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusInternalServerError || !strings.Contains(ae.Message, "request_id") ||
		strings.Contains(ae.Message, "secret-path") {
		t.Errorf("internal failure over the socket: %v", err)
	}
	// The typed helpers agree with the table's types.
	if out, err := Call(t.Context(), Runner(c), adminapi.Op[echoIn, echoIn]{Name: "echo"}, echoIn{Text: "typed"}); err != nil || !strings.HasPrefix(out.Text, "typed|application/json|") {
		t.Errorf("Call = %q, %v", out.Text, err)
	}
}

// TestServerAnswersOnlyPostV1: other methods and paths are 404 with a JSON
// error, and every answer is JSON that is never cached.
func TestServerAnswersOnlyPostV1(t *testing.T) {
	t.Parallel()
	path := socketPath(t)
	serve(t, path)
	hc := NewClient(path).HTTP()
	for _, tc := range []struct{ method, path string }{{"GET", "/v1/echo"}, {"POST", "/v2/echo"}, {"GET", "/"}} {
		req, _ := http.NewRequest(tc.method, "http://tsubasa-admin"+tc.path, bytes.NewReader([]byte(`{}`)))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" ||
			resp.Header.Get("Cache-Control") != "no-store" || !json.Valid(b) {
			t.Errorf("%s %s: %d %q %q %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), b)
		}
	}
}

func TestSocketModeAndCleanup(t *testing.T) {
	t.Parallel()
	path := socketPath(t)
	srv, err := Listen(echo{}, path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	if _, ok := Dial(path); !ok {
		t.Error("Dial: no server found on a listening socket")
	}
	if _, err := Listen(echo{}, path, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "another server answers") {
		t.Errorf("second server on a live socket: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left after Close: %v", err)
	}
	if _, ok := Dial(path); ok {
		t.Error("Dial: server found after Close")
	}
}

func listenUnixNoUnlink(path string) (*net.UnixListener, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(false)
	return l, nil
}

func TestSocketReplacesStaleSocket(t *testing.T) {
	t.Parallel()
	path := socketPath(t)
	// A socket file whose server is gone, as a crash leaves it.
	stale, err := listenUnixNoUnlink(path)
	if err != nil {
		t.Fatal(err)
	}
	stale.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket missing: %v", err)
	}
	if _, ok := Dial(path); ok {
		t.Error("Dial: server found on a stale socket")
	}
	srv, err := Listen(echo{}, path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	srv.Close()

	// A regular file in the way is left alone.
	if err := os.WriteFile(path, []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(echo{}, path, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "not a socket") {
		t.Errorf("regular file at socket path: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "not a socket" {
		t.Error("regular file at the socket path was changed")
	}
}

func TestSocketPathTooLong(t *testing.T) {
	t.Parallel()
	long := "/tmp/" + strings.Repeat("d", MaxPath)
	if _, err := Listen(echo{}, long, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "admin.socket") {
		t.Errorf("too long a path: %v", err)
	}
	if _, ok := Dial(long); ok {
		t.Error("Dial found a server where none can listen")
	}
}

func TestPeerAllowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uid, self uint32
		want      bool
	}{
		{1000, 1000, true},
		{0, 1000, true},
		{1001, 1000, false},
		{1000, 0, false},
		{0, 0, true},
	} {
		if got := peerAllowed(tc.uid, tc.self); got != tc.want {
			t.Errorf("peerAllowed(%d, %d) = %v, want %v", tc.uid, tc.self, got, tc.want)
		}
	}
}

// TestPeerCheck accepts the server's own user (the peer credentials of a
// real connection are read without error).
func TestPeerCheck(t *testing.T) {
	t.Parallel()
	path := socketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		errc <- checkPeer(c)
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := <-errc; err != nil {
		t.Errorf("checkPeer on own connection: %v", err)
	}
}
