package adminsock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"tsubasa/provider/admin/adminapi"
)

// Runner runs an admin operation: through a server's socket (Client) or in
// this process, on a database no server holds (Direct). Both answer the
// same way, so a command behaves the same whichever way it ran.
type Runner interface {
	Run(ctx context.Context, op string, req adminapi.Request, out any) error
}

// Call runs op with in as its JSON request and returns its response. An
// error the operation reports is an *adminapi.Error.
func Call[In, Out any](ctx context.Context, r Runner, op adminapi.Op[In, Out], in In) (Out, error) {
	var out Out
	b, err := json.Marshal(in)
	if err != nil {
		return out, err
	}
	err = r.Run(ctx, op.Name, adminapi.Request{Body: bytes.NewReader(b)}, &out)
	return out, err
}

// Send runs an upload operation: file is the body, in the query.
func Send[In adminapi.Upload, Out any](ctx context.Context, r Runner, op adminapi.Op[In, Out], in In, file io.Reader) (Out, error) {
	var out Out
	err := r.Run(ctx, op.Name, adminapi.Request{Body: file, ContentType: op.ContentType, Query: in.Query()}, &out)
	return out, err
}

// Client calls the admin API of a running server.
type Client struct {
	socket string
	http   *http.Client
}

// Dial connects to the admin socket. The second result is false when no
// server is there (no socket file, or nobody listening), which means the
// CLI may open the database itself. Any other failure, such as a socket the
// caller may not use, counts as a server present: the call then reports it.
func Dial(socketPath string) (*Client, bool) {
	if len(socketPath) > MaxPath {
		return nil, false // no server can listen there
	}
	c, err := net.DialTimeout("unix", socketPath, 2*time.Second)
	if NoServer(err) {
		return nil, false
	}
	if err == nil {
		c.Close()
	}
	return NewClient(socketPath), true
}

// NoServer reports connect errors that mean nobody serves the socket.
func NoServer(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENOTSOCK)
}

// NewClient returns a client of the socket at socketPath.
func NewClient(socketPath string) *Client {
	var d net.Dialer
	return &Client{
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

// HTTP is the client's HTTP client, whose every connection goes to the
// socket (the host of a URL is never resolved).
func (c *Client) HTTP() *http.Client { return c.http }

// Run posts the request to /v1/<op> and decodes the answer into out (or
// the server's error into an *adminapi.Error).
func (c *Client) Run(ctx context.Context, op string, in adminapi.Request, out any) error {
	// The host is never resolved: every connection goes to the socket.
	u := url.URL{Scheme: "http", Host: "tsubasa-admin", Path: "/v1/" + op, RawQuery: in.Query.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), in.Body)
	if err != nil {
		return err
	}
	ct := in.ContentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ae := &adminapi.Error{}
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

// Direct runs operations in this process, on a database no server holds.
// Results take the same JSON round trip as over the socket, so both paths
// give the same output.
type Direct struct{ Handler Handler }

// Run runs op with h.
func (d Direct) Run(ctx context.Context, op string, req adminapi.Request, out any) error {
	res, err := d.Handler.Handle(ctx, op, req)
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
