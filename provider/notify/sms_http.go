package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DefaultHTTPTimeout bounds one SMS gateway request when the caller does not
// supply its own client.
const DefaultHTTPTimeout = 15 * time.Second

// defaultRetryBackoff is the wait before the second and third try: short,
// because an OTP SMS is sent while a person looks at the screen.
var defaultRetryBackoff = []time.Duration{250 * time.Millisecond, 750 * time.Millisecond}

// httpPoster runs one logical send as up to len(backoff)+1 HTTP requests.
type httpPoster struct {
	name    string // "sms webhook", "twilio": prefixes errors
	client  *http.Client
	backoff []time.Duration
	// describe turns a non-2xx response into error detail. It must not
	// echo the request body, which holds the one-time password.
	describe func(resp *http.Response, body []byte) string
}

func newHTTPPoster(name string, client *http.Client) httpPoster {
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	return httpPoster{name: name, client: client, backoff: defaultRetryBackoff}
}

// post sends the request that newReq builds (afresh for every try, since a
// body can be read only once). 2xx is success. 5xx, 408, 429 and transport
// errors are retried; other statuses are permanent.
func (p httpPoster) post(ctx context.Context, newReq func(context.Context) (*http.Request, error)) error {
	var last error
	for try := 0; ; try++ {
		req, err := newReq(ctx)
		if err != nil {
			return Permanent(fmt.Errorf("notify: %s: build request: %w", p.name, err))
		}
		last = p.once(req)
		if last == nil || IsPermanent(last) {
			return last
		}
		if ctx.Err() != nil {
			return fmt.Errorf("notify: %s: %w (last error: %w)", p.name, context.Cause(ctx), last)
		}
		if try >= len(p.backoff) {
			return fmt.Errorf("notify: %s: giving up after %d tries: %w", p.name, try+1, last)
		}
		t := time.NewTimer(p.backoff[try])
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("notify: %s: %w (last error: %w)", p.name, context.Cause(ctx), last)
		case <-t.C:
		}
	}
}

func (p httpPoster) once(req *http.Request) error {
	resp, err := p.client.Do(req)
	if err != nil {
		// url.Error repeats the URL, and a webhook URL may carry a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notify: %s: %w", p.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	detail := ""
	if p.describe != nil {
		detail = p.describe(resp, body)
	}
	err = &StatusError{Service: p.name, Code: resp.StatusCode, Detail: detail}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode == http.StatusTooManyRequests:
		return err
	default:
		return Permanent(err)
	}
}

// StatusError is a non-2xx answer from an SMS gateway.
type StatusError struct {
	Service string // "sms webhook", "twilio"
	Code    int    // HTTP status
	Detail  string // gateway error code or message, never the SMS body
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s answered %d %s", e.Service, e.Code, http.StatusText(e.Code))
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// checkBaseURL insists on an absolute http(s) URL.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("unparseable URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("URL must be absolute http or https")
	}
	return nil
}
