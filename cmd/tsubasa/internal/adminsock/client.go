package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"tsubasa/storage/bolt"
)

// adminRunner runs an admin operation: through the server's socket
// (adminClient) or on the database file itself (directRunner).
type adminRunner interface {
	call(ctx context.Context, op string, req adminRequest, out any) error
}

// adminClient calls the admin API of a running server.
type adminClient struct {
	socket string
	http   *http.Client
}

// dialAdmin connects to the admin socket. The second result is false when
// no server is there (no socket file, or nobody listening), which means the
// CLI may open the database itself. Any other failure, such as a socket the
// caller may not use, counts as a server present: the call then reports it.
func dialAdmin(socketPath string) (*adminClient, bool) {
	if len(socketPath) > maxSocketPath {
		return nil, false // no server can listen there
	}
	c, err := net.DialTimeout("unix", socketPath, 2*time.Second)
	if noServer(err) {
		return nil, false
	}
	if err == nil {
		c.Close()
	}
	return newAdminClient(socketPath), true
}

// noServer reports connect errors that mean nobody serves the socket.
func noServer(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENOTSOCK)
}

func newAdminClient(socketPath string) *adminClient {
	var d net.Dialer
	return &adminClient{
		socket: socketPath,
		http: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", socketPath)
			},
			DisableCompression: true,
			DisableKeepAlives:  true, // one request per command
		}},
	}
}

// call posts the request to /v1/<op> and decodes the answer into out (or
// the server's error into an *adminError).
func (c *adminClient) call(ctx context.Context, op string, in adminRequest, out any) error {
	// The host is never resolved: every connection goes to the socket.
	u := url.URL{Scheme: "http", Host: "tsubasa-admin", Path: "/v1/" + op, RawQuery: in.Query.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), in.Body)
	if err != nil {
		return err
	}
	ct := "application/json"
	if op == "member/import" {
		ct = "text/csv"
	}
	req.Header.Set("Content-Type", ct)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ae := &adminError{}
		if err := json.NewDecoder(resp.Body).Decode(ae); err != nil || ae.Message == "" {
			return fmt.Errorf("admin socket %s: unexpected answer %s", c.socket, resp.Status)
		}
		ae.Status = resp.StatusCode
		return ae
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("admin socket %s: reading answer: %w", c.socket, err)
	}
	return nil
}

// directRunner runs operations in this process, on a database no server
// holds. Results take the same JSON round trip as over the socket, so both
// paths give the same output.
type directRunner struct{ ops *adminOps }

func (d directRunner) call(ctx context.Context, op string, req adminRequest, out any) error {
	h, ok := adminRoutes[op]
	if !ok {
		return fmt.Errorf("unknown admin operation %q", op)
	}
	res, err := h(ctx, d.ops, req)
	if err != nil {
		if ae := asAdminError(err); ae != nil {
			return ae
		}
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// adminJSON runs op with in encoded as JSON.
func (g *globals) adminJSON(ctx context.Context, op string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return g.admin(ctx, op, nil, func() (io.Reader, error) { return bytes.NewReader(b), nil }, out)
}

// admin runs op through the running server when one answers on the admin
// socket, or else directly on the database file. body is called once per
// attempt. Validation errors come back as usage errors (exit status 2).
func (g *globals) admin(ctx context.Context, op string, query url.Values, body func() (io.Reader, error), out any) error {
	err := g.runAdmin(ctx, op, query, body, out)
	var ae *adminError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		return usageError{err}
	}
	return err
}

func (g *globals) runAdmin(ctx context.Context, op string, query url.Values, body func() (io.Reader, error), out any) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	socket := cfg.AdminSocket()
	if c, ok := dialAdmin(socket); ok {
		err := callWith(ctx, c, op, query, body, out)
		if !noServer(err) {
			return err
		}
		// The server stopped between the probe and the call: go direct.
	}
	log := slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := openDeps(ctx, cfg, log, time.Second)
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w\n(no server answers on the admin socket %s: does the running server use another admin.socket?)",
			err, socket)
	}
	if err != nil {
		return err
	}
	ops := newAdminOps(d, nil)
	ops.progress = g.stderr
	err = callWith(ctx, directRunner{ops: ops}, op, query, body, out)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func callWith(ctx context.Context, r adminRunner, op string, query url.Values, body func() (io.Reader, error), out any) error {
	rd, err := body()
	if err != nil {
		return err
	}
	return r.call(ctx, op, adminRequest{Body: rd, Query: query}, out)
}
