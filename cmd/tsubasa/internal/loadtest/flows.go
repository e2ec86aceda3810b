package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// flowError is a failed step of an iteration. key is what the report
// counts it under: the HTTP status, "transport" for network errors, or
// "invalid" for a well-formed answer that is not what the flow expects.
type flowError struct {
	key    string
	detail string
}

func (e *flowError) Error() string { return e.key + ": " + e.detail }

func invalidAnswer(format string, args ...any) error {
	return &flowError{key: "invalid", detail: fmt.Sprintf(format, args...)}
}

// worker is one simulated client. It owns its histograms and counters, so
// workers record without locks; the report merges them.
type worker struct {
	l      *loader
	id     int
	number string // the member this worker logs in as
	client *http.Client
	buf    bytes.Buffer
	lean   *leanConn // the lean path's connection
	wbuf   []byte    // the lean path's request
	body   []byte    // the lean path's answers with a Content-Length

	iter     latencyHist // per successful iteration
	req      latencyHist // per HTTP request
	iters    uint64
	requests uint64
	errs     map[string]uint64
	samples  map[string]string

	refresh, access   string        // tokens of the refresh, userinfo and introspect scenarios
	proofs            *pool         // the worker's userinfo proofs, with --dpop
	bearer, tokenForm string        // the access token as userinfo and introspection want it
	sub               string        // the subject of the ID token that came with them
	retryAfter        time.Duration // asked by the last 429/503
	idAlg             string        // alg of the first ID token seen
}

func newWorker(l *loader, id int) *worker {
	w := &worker{l: l, id: id, errs: map[string]uint64{}, samples: map[string]string{}}
	w.number = l.memberNumber(id)
	w.client = &http.Client{
		Transport: l.transport,
		Timeout:   l.o.Timeout,
		// Redirects are followed by hand: each hop is a request measured on
		// its own, and the flow stops at the relying party's redirect URI.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w
}

// freshBrowser gives the worker an empty cookie jar: a browser that has
// never logged in.
func (w *worker) freshBrowser() {
	jar, _ := cookiejar.New(nil) // never fails without options
	w.client.Jar = jar
}

func (w *worker) fail(err error) {
	fe, ok := err.(*flowError)
	if !ok {
		fe = &flowError{key: "transport", detail: err.Error()}
	}
	w.errs[fe.key]++
	if _, ok := w.samples[fe.key]; !ok {
		w.samples[fe.key] = fe.detail
	}
}

// do sends req and reads the whole body (so the connection is reused). The
// body is valid until the next call.
func (w *worker) do(req *http.Request) (*http.Response, []byte, error) {
	start := time.Now()
	resp, err := w.client.Do(req)
	if err == nil {
		w.buf.Reset()
		_, err = w.buf.ReadFrom(resp.Body)
		resp.Body.Close()
	}
	w.req.record(time.Since(start))
	w.requests++
	if err != nil {
		return nil, nil, &flowError{key: "transport", detail: fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err)}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			w.retryAfter = time.Duration(s) * time.Second
		}
	}
	return resp, w.buf.Bytes(), nil
}

// statusError reports an unexpected status with what the answer says.
func statusError(step string, resp *http.Response, body []byte) error {
	return answerError(step, answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: body})
}

func answerError(step string, a answer) error {
	text := answerText(a.body)
	if a.location != "" {
		text = "Location: " + a.location
	}
	return &flowError{key: strconv.Itoa(a.status), detail: step + ": " + text}
}

// answerText is the gist of an answer body: for an HTML page the text of
// its ARIA alert (where pages announce errors) or else of the page, tags
// dropped; JSON and text as they are. At most 200 bytes.
func answerText(body []byte) string {
	if i := bytes.Index(body, []byte(`role="alert"`)); i >= 0 {
		if j := bytes.IndexByte(body[i:], '>'); j >= 0 {
			body = body[i+j+1:]
		}
	}
	var b strings.Builder
	inTag := false
	for _, c := range body {
		if b.Len() >= 200 {
			break
		}
		switch {
		case c == '<':
			inTag = true
			b.WriteByte(' ')
		case c == '>':
			inTag = false
		case !inTag:
			b.WriteByte(c)
		}
	}
	return strings.ToValidUTF8(strings.Join(strings.Fields(b.String()), " "), "")
}

func (w *worker) get(ctx context.Context, u string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	return w.do(req)
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
}

// token posts form to the token endpoint with the client's credentials and
// wants an access token back.
func (w *worker) token(ctx context.Context, step string, form string) (tokenResponse, error) {
	var tr tokenResponse
	auth, form, err := w.l.auth.apply(form)
	if err != nil {
		return tr, err
	}
	var proof string
	if w.l.proofs != nil {
		if proof, err = w.l.proofs.take(); err != nil {
			return tr, err
		}
	}
	a, err := w.sendProof(ctx, w.l.token, auth, proof, form)
	if err != nil {
		return tr, err
	}
	if a.status != http.StatusOK {
		return tr, answerError(step, a)
	}
	at, ok := jsonString(a.body, "access_token")
	if !ok || len(at) == 0 || !jsonObject(a.body) {
		return tr, invalidAnswer("%s: no access token in %.200s", step, a.body)
	}
	tr.AccessToken = string(at)
	if rt, ok := jsonString(a.body, "refresh_token"); ok {
		tr.RefreshToken = string(rt)
	}
	if id, ok := jsonString(a.body, "id_token"); ok {
		tr.IDToken = string(id)
		if w.idAlg == "" {
			w.idAlg = jwtAlg(tr.IDToken)
		}
	}
	return tr, nil
}

// codeFlow runs one authorization code flow with PKCE S256, as a browser
// and its relying party do: /authorize, the login page (answered with the
// member's password when password is set; with SSO there is none, and
// /authorize answers with the code), then the code exchange.
func (w *worker) codeFlow(ctx context.Context, password bool) (tokenResponse, error) {
	l := w.l
	verifier, state := randomToken(32), randomToken(12)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id":             {l.o.ClientID},
		"redirect_uri":          {l.o.RedirectURI},
		"response_type":         {"code"},
		"scope":                 {l.o.Scopes},
		"state":                 {state},
		"nonce":                 {randomToken(12)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	var (
		cb, page *url.URL
		body     []byte
		err      error
	)
	if password {
		cb, page, body, err = w.follow(ctx, l.ep.Authorization+"?"+q.Encode())
	} else {
		cb, page, body, err = w.authorizeSSO(ctx, l.ep.Authorization+"?"+q.Encode())
	}
	if err != nil {
		return tokenResponse{}, err
	}
	if cb == nil {
		if !password {
			return tokenResponse{}, invalidAnswer("login page shown although the browser is logged in (session lost?)")
		}
		if cb, err = w.login(ctx, page, body); err != nil {
			return tokenResponse{}, err
		}
	}
	cq := cb.Query()
	if e := cq.Get("error"); e != "" {
		return tokenResponse{}, invalidAnswer("authorization error %s: %s", e, cq.Get("error_description"))
	}
	if cq.Get("state") != state || cq.Get("code") == "" {
		return tokenResponse{}, invalidAnswer("callback without code or with the wrong state: %s", cb.Redacted())
	}
	return w.token(ctx, "code exchange", url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {cq.Get("code")},
		"redirect_uri":  {l.o.RedirectURI},
		"code_verifier": {verifier},
	}.Encode())
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// jwtAlg reads the alg of a JWT's header (without verifying anything).
func jwtAlg(jwt string) string { return jwtField(jwt, 0, "alg") }

// jwtField reads a string field of a JWT's header (part 0) or claims (part
// 1), without verifying anything.
func jwtField(jwt string, part int, name string) string {
	parts := strings.SplitN(jwt, ".", 3)
	if part >= len(parts) {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[part])
	if err != nil {
		return ""
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	s, _ := m[name].(string)
	return s
}

// getOK GETs u, with a bearer token if given, and wants a 200.
func (w *worker) getOK(ctx context.Context, step, u, bearer string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, body, err := w.do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(step, resp, body)
	}
	return body, nil
}
