package adminremote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"tsubasa/provider/admin/adminapi"
)

// Options say where the server is and who the CLI is to it.
type Options struct {
	// Server is the server's base URL: its issuer.
	Server   string
	ClientID string
	// Secret is the client's secret; Key its private key (private_key_jwt)
	// instead. One of them.
	Secret string
	Key    *Key
	// Agent, when set, is sent as X-Tsubasa-Agent: the person at the
	// command line, recorded with every call.
	Agent string
	// HTTP is the HTTP client [a client with a 5-minute timeout: an
	// import is one long request].
	HTTP *http.Client
}

// Client runs admin operations over the HTTP admin API.
type Client struct {
	o        Options
	base     string
	issuer   string
	tokenURL string

	mu     sync.Mutex
	tokens map[string]token // by scope
}

type token struct {
	value   string
	expires time.Time
}

// New finds the server's token endpoint (its discovery document) and
// returns a client of its admin API.
func New(ctx context.Context, o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(o.Server, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: give the server's URL, e.g. https://id.example.com", o.Server)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("--server %s: the admin API carries tokens and members' data: use https (http only on loopback)", o.Server)
	}
	if o.ClientID == "" || (o.Secret == "") == (o.Key == nil) {
		return nil, errors.New("--server needs --client-id and one of --client-secret-file and --client-key")
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 5 * time.Minute}
	}
	c := &Client{o: o, base: u.String(), tokens: map[string]token{}}
	var disc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := c.getJSON(ctx, c.base+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, fmt.Errorf("--server %s: reading its discovery document: %w", o.Server, err)
	}
	if disc.Issuer == "" || disc.TokenEndpoint == "" {
		return nil, fmt.Errorf("--server %s: its discovery document names no issuer or token endpoint", o.Server)
	}
	c.issuer, c.tokenURL = disc.Issuer, disc.TokenEndpoint
	return c, nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
}

func (c *Client) getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.o.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}

// Run runs op through its route; see the package doc.
func (c *Client) Run(ctx context.Context, op string, in adminapi.Request, out any) error {
	rt, ok := adminapi.RouteOf(op)
	if !ok {
		return fmt.Errorf("%s is not part of the HTTP admin API: run it on the database's host, without --server", op)
	}
	for attempt := 0; ; attempt++ {
		req, err := c.request(ctx, rt, in)
		if err != nil {
			return err
		}
		resp, err := c.o.HTTP.Do(req)
		if err != nil {
			return fmt.Errorf("admin API %s: %w", c.base, err)
		}
		err = c.answer(rt, resp, out)
		resp.Body.Close()
		var ae *adminapi.Error
		// A token that expired or was revoked in the meantime: once more
		// with a new one (a stream is not read twice).
		if attempt == 0 && errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && len(rt.Upload) == 0 {
			c.forget(rt.Scope)
			if in.Body, err = rewind(in.Body); err == nil {
				continue
			}
		}
		return err
	}
}

// rewind makes a JSON request's body readable again.
func rewind(r io.Reader) (io.Reader, error) {
	if s, ok := r.(io.Seeker); ok {
		_, err := s.Seek(0, io.SeekStart)
		return r, err
	}
	return nil, errors.New("the request cannot be sent again")
}

// request builds the HTTP request of rt from the operation's request.
func (c *Client) request(ctx context.Context, rt adminapi.Route, in adminapi.Request) (*http.Request, error) {
	tok, err := c.token(ctx, rt.Scope)
	if err != nil {
		return nil, err
	}
	path, query, header, body, err := bind(rt, in)
	if err != nil {
		return nil, err
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, rt.Method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header = header
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if c.o.Agent != "" {
		req.Header.Set("X-Tsubasa-Agent", c.o.Agent)
	}
	return req, nil
}

// bind spreads an operation's JSON request over the route's path, query,
// If-Match header and body, as the server binds them back.
func bind(rt adminapi.Route, in adminapi.Request) (string, url.Values, http.Header, io.Reader, error) {
	header, query := http.Header{}, url.Values{}
	if len(rt.Upload) > 0 {
		ct := in.ContentType
		if ct == "" {
			ct = adminapi.MediaCSV
		}
		header.Set("Content-Type", ct)
		return rt.Path, in.Query, header, in.Body, nil
	}
	fields := map[string]json.RawMessage{}
	if in.Body != nil {
		if err := json.NewDecoder(in.Body).Decode(&fields); err != nil && !errors.Is(err, io.EOF) {
			return "", nil, nil, nil, fmt.Errorf("encoding the request: %w", err)
		}
	}
	path := rt.Path
	for _, p := range rt.Params() {
		var v string
		_ = json.Unmarshal(fields[p], &v)
		if v == "" {
			return "", nil, nil, nil, &adminapi.Error{Status: http.StatusBadRequest, Field: p, Message: p + " is required"}
		}
		path = strings.Replace(path, "{"+p+"}", url.PathEscape(v), 1)
		delete(fields, p)
	}
	if raw, ok := fields["if_match"]; ok {
		var v string
		_ = json.Unmarshal(raw, &v)
		header.Set("If-Match", v)
		delete(fields, "if_match")
	}
	if rt.BodyLess() {
		for k, raw := range fields {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				s = string(raw) // a number or a boolean, as written
			}
			query.Set(k, s)
		}
		return path, query, header, nil, nil
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return "", nil, nil, nil, err
	}
	header.Set("Content-Type", "application/json")
	return path, query, header, bytes.NewReader(b), nil
}

// answer reads a response into out, or returns its problem as an
// *adminapi.Error.
func (c *Client) answer(rt adminapi.Route, resp *http.Response, out any) error {
	if resp.StatusCode >= 300 {
		return problemError(resp)
	}
	dec := json.NewDecoder(resp.Body)
	if !rt.Job {
		if err := dec.Decode(out); err != nil {
			return fmt.Errorf("admin API: reading the answer: %w", err)
		}
		return nil
	}
	// 202 came when the job started; the body is the job as it ended.
	var job adminapi.JobView
	if err := dec.Decode(&job); err != nil {
		return fmt.Errorf("admin API: the job %s did not report its end (%w); see GET %s/jobs/%s",
			resp.Header.Get("Location"), err, adminapi.Prefix, strings.TrimPrefix(resp.Header.Get("Location"), adminapi.Prefix+"/jobs/"))
	}
	if job.State != adminapi.JobDone {
		return fmt.Errorf("job %s %s: %s (rows read: %d, created: %d)", job.ID, job.State, job.Error, job.Progress.Rows, job.Progress.Created)
	}
	b, _ := json.Marshal(job.Progress)
	return json.Unmarshal(b, out)
}

// problemError turns an RFC 9457 answer into the operation's error.
func problemError(resp *http.Response) error {
	var p adminapi.Problem
	err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&p)
	if err != nil || p.Detail == "" {
		return &adminapi.Error{Status: resp.StatusCode, Message: "admin API: unexpected answer " + resp.Status}
	}
	msg := p.Detail
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		msg = "the server refused the CLI's token: " + msg
	case http.StatusForbidden:
		if strings.HasSuffix(p.Type, adminapi.ProblemSupportSessionRequired) {
			msg += " (tsubasa member support start, then verify, then --support-session)"
			break
		}
		msg = "the client is not allowed this: " + msg + " (give the client the scope, or use another client)"
	case http.StatusTooManyRequests:
		msg += " (Retry-After: " + resp.Header.Get("Retry-After") + "s)"
	}
	return &adminapi.Error{Status: resp.StatusCode, Message: msg, Field: p.Field,
		Problem: strings.TrimPrefix(p.Type, adminapi.ProblemBase)}
}
