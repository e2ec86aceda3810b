package replicas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// Clients for the fault tests: they run in goroutines while replicas die
// or the database goes away under them, so they return errors instead of
// failing the test, bound every request, and retry what a browser's user
// would retry (a page that did not load) but never what a relying party
// must not replay on its own (a code or a refresh token).

// errProxy is an answer the proxy gave itself: the replica did not answer.
var errProxy = errors.New("502 from the proxy: the replica did not answer")

// answer is one HTTP answer, its body read.
type answer struct {
	status   int
	location string
	body     string
	url      *url.URL
}

// live is a browser (a cookie jar that stops at the relying party's
// callback) for goroutines.
type live struct {
	c      *http.Client
	stopAt string
}

func newLive(s *e2e.Server) *live {
	jar, _ := cookiejar.New(nil) // never fails without options
	b := &live{stopAt: s.Issuer + "/rp/"}
	b.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), b.stopAt) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// send sends req once; a 502 is errProxy.
func (b *live) send(req *http.Request) (answer, error) {
	resp, err := b.c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body), url: resp.Request.URL}
	if a.status == http.StatusBadGateway && strings.Contains(a.body, "cluster proxy") {
		return a, errProxy
	}
	return a, nil
}

// retry sends the request newReq makes until it gets an answer from a
// replica (at most ten tries, 100 ms apart), as a user reloads a page
// that did not load.
func (b *live) retry(ctx context.Context, newReq func() *http.Request) (answer, error) {
	var err error
	for range 10 {
		var a answer
		if a, err = b.send(newReq()); err == nil {
			return a, nil
		}
		select {
		case <-ctx.Done():
			return answer{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return answer{}, err
}

var authRequestRe = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// open loads the login page of authURL (retrying) and returns it.
func (b *live) open(ctx context.Context, authURL string) (answer, string, error) {
	a, err := b.retry(ctx, func() *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
		return req
	})
	if err != nil {
		return a, "", err
	}
	m := authRequestRe.FindStringSubmatch(a.body)
	if m == nil {
		return a, "", fmt.Errorf("no login page: %d at %s", a.status, a.url)
	}
	return a, m[1], nil
}

// submit posts number and password on the login page (retrying while
// the proxy cannot reach a replica) and returns the callback.
func (b *live) submit(ctx context.Context, page answer, id, number, password string) (*url.URL, error) {
	form := url.Values{"authRequestID": {id}, "member_number": {number}, "password": {password}}
	a, err := b.retry(ctx, func() *http.Request {
		req := e2e.NewFormRequest(ctx, page.url.ResolveReference(&url.URL{Path: "/login"}).String(), form.Encode())
		req.Header.Set("Origin", page.url.Scheme+"://"+page.url.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		return req
	})
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(a.location, b.stopAt) {
		return nil, fmt.Errorf("login answered %d at %s, not the relying party's callback", a.status, a.url)
	}
	return url.Parse(a.location)
}

// tokens is a token endpoint's answer.
type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	Error   string `json:"error"`
	Desc    string `json:"error_description"`
}

// grant posts form to the token endpoint at base as the web client, once,
// and returns the status and the answer; a transport error or the
// proxy's 502 is an error (whether the grant happened is then unknown).
func grant(ctx context.Context, base string, form url.Values) (int, tokens, error) {
	req := e2e.NewFormRequest(ctx, base+"/oauth/token", form.Encode())
	req.SetBasicAuth("web", e2e.WebSecret)
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, tokens{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusBadGateway && strings.Contains(string(body), "cluster proxy") {
		return 0, tokens{}, errProxy
	}
	var tok tokens
	_ = json.Unmarshal(body, &tok)
	return resp.StatusCode, tok, nil
}

// exchange redeems the code of callback cb with the flow's verifier.
func exchange(ctx context.Context, base string, f e2e.Flow, cb *url.URL) (int, tokens, error) {
	return grant(ctx, base, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {strings.SplitN(cb.String(), "?", 2)[0]}, "code_verifier": {f.Verifier}})
}

// refresh redeems refresh token rt.
func refresh(ctx context.Context, base, rt string) (int, tokens, error) {
	return grant(ctx, base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}
