package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The one-request scenarios and the token requests of the flows go through
// send, a lean HTTP/1.1 client, rather than net/http's: on the server's
// machine every CPU microsecond the command spends is taken from the
// server, and net/http's connection goroutines, channels, timers and
// per-request allocations cost more than the two system calls a request
// needs (about 40µs a request against 15–30µs here, on a 2-vCPU machine).
// A worker writes its request, encoded by hand, on a keep-alive connection
// of its own and reads the answer on the same goroutine. That path is
// taken for plain HTTP to the issuer's host without a proxy; anything else,
// and the browser's requests of the flows, go through net/http.

// call is one kind of request, parsed once.
type call struct {
	method string
	url    string
	path   string // for errors
	target string // request target: path and query
	lean   bool   // written by hand on the worker's connection
}

func (l *loader) newCall(method, rawURL string) *call {
	c := &call{method: method, url: rawURL, path: rawURL}
	if u, err := url.Parse(rawURL); err == nil {
		c.path, c.target = u.Path, u.RequestURI()
		c.lean = l.leanAddr != "" && u.Scheme == "http" && u.Host == l.leanHost && u.User == nil
	}
	return c
}

// leanTarget returns the address to dial and the Host header of the lean
// path for issuer, or empty strings when net/http must carry the requests
// (TLS, a proxy).
func leanTarget(issuer *url.URL, proxy func(*http.Request) (*url.URL, error)) (addr, host string) {
	if issuer.Scheme != "http" {
		return "", ""
	}
	if proxy != nil {
		if p, err := proxy(&http.Request{URL: issuer}); err != nil || p != nil {
			return "", ""
		}
	}
	port := issuer.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(issuer.Hostname(), port), issuer.Host
}

// answer is what a call got back. body is valid until the worker's next
// request.
type answer struct {
	status     int
	location   string
	retryAfter time.Duration
	setCookie  []string // Set-Cookie headers (lean path)
	body       []byte
}

// send makes the call with an Authorization header (if auth is set) and,
// for a POST, form as its application/x-www-form-urlencoded body.
func (w *worker) send(ctx context.Context, c *call, auth, form string) (answer, error) {
	return w.sendProof(ctx, c, auth, "", form)
}

// sendProof is send with a DPoP header if proof is set.
func (w *worker) sendProof(ctx context.Context, c *call, auth, proof, form string) (answer, error) {
	if !c.lean {
		return w.sendStd(ctx, c, auth, proof, form)
	}
	return w.sendLean(ctx, c, auth, "", proof, form)
}

// sendLean is send on the lean path, with a Cookie header if cookie is set
// and a DPoP header if proof is.
func (w *worker) sendLean(ctx context.Context, c *call, auth, cookie, proof, form string) (answer, error) {
	b := append(w.wbuf[:0], c.method...)
	b = append(b, ' ')
	b = append(b, c.target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, w.l.leanHost...)
	b = append(b, "\r\nUser-Agent: Go-http-client/1.1\r\n"...)
	if auth != "" {
		b = append(b, "Authorization: "...)
		b = append(b, auth...)
		b = append(b, "\r\n"...)
	}
	if cookie != "" {
		b = append(b, "Cookie: "...)
		b = append(b, cookie...)
		b = append(b, "\r\n"...)
	}
	if proof != "" {
		b = append(b, "DPoP: "...)
		b = append(b, proof...)
		b = append(b, "\r\n"...)
	}
	if c.method == http.MethodPost {
		b = append(b, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(form)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, form...)
	w.wbuf = b
	start := time.Now()
	a, err := w.exchange(ctx, b, start)
	w.req.record(time.Since(start))
	w.requests++
	if err != nil {
		return a, &flowError{key: "transport", detail: fmt.Sprintf("%s %s: %v", c.method, c.path, err)}
	}
	return a, nil
}

// sendStd is send through net/http.
func (w *worker) sendStd(ctx context.Context, c *call, auth, proof, form string) (answer, error) {
	var body io.Reader
	if c.method == http.MethodPost {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		return answer{}, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	if c.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, b, err := w.do(req)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: b}, nil
}

// leanConn is a worker's own keep-alive connection to the server.
type leanConn struct {
	conn     net.Conn
	br       *bufio.Reader
	ctx      context.Context
	stop     func() bool // unregisters the close on ctx's end
	used     bool        // an answer was read on it
	deadline time.Time
}

func (w *worker) closeLean() {
	if c := w.lean; c != nil {
		c.stop()
		c.conn.Close()
		w.lean = nil
	}
}

// exchange writes req on the worker's connection (dialled if need be) and
// reads the answer. A connection the server closed while idle (nothing
// came back on a connection that had answered before) is replaced once, as
// net/http does.
func (w *worker) exchange(ctx context.Context, req []byte, start time.Time) (answer, error) {
	for attempt := 0; ; attempt++ {
		if w.lean != nil && w.lean.ctx != ctx {
			w.closeLean()
		}
		if w.lean == nil {
			conn, err := w.l.transport.DialContext(ctx, "tcp", w.l.leanAddr)
			if err != nil {
				return answer{}, err
			}
			w.lean = &leanConn{conn: conn, br: bufio.NewReaderSize(conn, 8<<10), ctx: ctx,
				// On the end of ctx, cut what is in flight.
				stop: context.AfterFunc(ctx, func() { conn.Close() })}
		}
		c := w.lean
		// Each request gets the timeout, up to an eighth more: the deadline
		// is moved only now and then, not for each request.
		if t := w.l.o.Timeout; t > 0 && c.deadline.Sub(start) < t {
			c.deadline = start.Add(t + t/8)
			if err := c.conn.SetDeadline(c.deadline); err != nil {
				w.closeLean()
				return answer{}, err
			}
		}
		reused := c.used
		_, err := c.conn.Write(req)
		var a answer
		var keep, got bool
		if err == nil {
			a, keep, got, err = w.readAnswer(c.br)
		}
		if err == nil {
			c.used = true
			if !keep {
				w.closeLean()
			}
			if a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable {
				w.retryAfter = a.retryAfter
			}
			return a, nil
		}
		w.closeLean()
		if !reused || got || attempt > 0 || ctx.Err() != nil {
			return a, err
		}
	}
}

// The answers are checked without decoding them: a full parse of a
// discovery document costs as much CPU as its request. jsonObject and
// jsonString read just enough to prove the answer is the one expected.

// jsonObject reports whether body is framed as a JSON object.
func jsonObject(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

// jsonValue returns what follows the first member name key (and its
// colon) in the JSON object body, or nil. A name inside a nested object
// matches too; one inside a string does not (its quotes are escaped).
func jsonValue(body []byte, key string) []byte {
	for rest := body; ; {
		i := bytes.Index(rest, []byte(key))
		if i < 0 {
			return nil
		}
		before, after := rest[:i], rest[i+len(key):]
		rest = after
		if len(before) == 0 || before[len(before)-1] != '"' || len(after) == 0 || after[0] != '"' {
			continue
		}
		after = bytes.TrimLeft(after[1:], " \t\r\n")
		if len(after) == 0 || after[0] != ':' {
			continue
		}
		return bytes.TrimLeft(after[1:], " \t\r\n")
	}
}

// jsonString returns the string value of key in the JSON object body
// (within body unless it has escapes).
func jsonString(body []byte, key string) ([]byte, bool) {
	v := jsonValue(body, key)
	if len(v) == 0 || v[0] != '"' {
		return nil, false
	}
	end := bytes.IndexByte(v[1:], '"')
	if end < 0 {
		return nil, false
	}
	if s := v[1 : 1+end]; bytes.IndexByte(s, '\\') < 0 {
		return s, true
	}
	var s string // escapes: decode the value properly
	if json.NewDecoder(bytes.NewReader(v)).Decode(&s) != nil {
		return nil, false
	}
	return []byte(s), true
}
