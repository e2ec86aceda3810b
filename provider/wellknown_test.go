package provider

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"tsubasa/storage/bolt"
)

// wellKnownEnv serves the same provider twice: through Handler (prebuilt
// discovery and JWKS) and through op's own router, the reference.
type wellKnownEnv struct {
	p      *Provider
	ours   *httptest.Server
	theirs *httptest.Server
}

func newWellKnownEnv(t *testing.T) *wellKnownEnv {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "p.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := New(t.Context(), Options{
		Issuer: "http://127.0.0.1:1", Store: st, HMACKey: []byte("0123456789abcdef0123456789abcdef"),
		AccessTokenTTL: 15 * time.Minute, IDTokenTTL: time.Hour, RefreshTokenTTL: time.Hour,
		CodeTTL: time.Minute, AuthRequestTTL: time.Minute,
		EndSession: func(http.ResponseWriter, *http.Request, LogoutRequest) {}, LogoutRefused: func(http.ResponseWriter, *http.Request, LogoutRefusal) {},
		LoginURL: func(id string) string { return "/login?authRequestID=" + id },
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &wellKnownEnv{p: p, ours: httptest.NewServer(p.Handler()), theirs: httptest.NewServer(p.op)}
	t.Cleanup(e.ours.Close)
	t.Cleanup(e.theirs.Close)
	return e
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, srv *httptest.Server, method, path string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

func parseJSON(t *testing.T, what string, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v: %q", what, err, body)
	}
	return v
}

// corsHeaders are the headers rs/cors writes, plus the content type.
var corsHeaders = []string{
	"Content-Type", "Vary", "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers",
	"Access-Control-Max-Age",
}

// sameAsOp checks that ours answers the request as op's router does: status,
// CORS headers and, where there is one, the body as JSON.
func (e *wellKnownEnv) sameAsOp(t *testing.T, method, path string, header map[string]string) answer {
	t.Helper()
	got, want := e.sameCORSAsOp(t, method, path, header)
	what := method + " " + path
	if len(want.body) > 0 && want.status == http.StatusOK {
		if g, w := parseJSON(t, what, got.body), parseJSON(t, what+" (op)", want.body); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: body differs from op's\n got %s\nwant %s", what, got.body, want.body)
		}
	} else if string(got.body) != string(want.body) {
		t.Errorf("%s: body %q, op gives %q", what, got.body, want.body)
	}
	return got
}

// sameCORSAsOp checks that ours answers the request with op's status and
// CORS headers, and returns both answers.
func (e *wellKnownEnv) sameCORSAsOp(t *testing.T, method, path string, header map[string]string) (got, want answer) {
	t.Helper()
	got, want = do(t, e.ours, method, path, header), do(t, e.theirs, method, path, header)
	what := method + " " + path
	if got.status != want.status {
		t.Fatalf("%s: status %d, op gives %d", what, got.status, want.status)
	}
	for _, h := range corsHeaders {
		if g, w := got.header.Values(h), want.header.Values(h); !slices.Equal(g, w) {
			t.Errorf("%s: %s = %q, op gives %q", what, h, g, w)
		}
	}
	return got, want
}

const discoveryPath = "/.well-known/openid-configuration"

// ourDiscovery checks that a discovery answer is the document built from
// the tables (metadata.go), not op's.
func (e *wellKnownEnv) ourDiscovery(t *testing.T, got answer) {
	t.Helper()
	doc, err := e.p.discovery(t.Context(), e.p.op)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := parseJSON(t, "discovery", got.body), parseJSON(t, "built", want); !reflect.DeepEqual(g, w) {
		t.Errorf("discovery body\n got %s\nwant %s", got.body, want)
	}
}

func TestWellKnownAnswersAsOp(t *testing.T) {
	t.Parallel()
	e := newWellKnownEnv(t)
	origin := map[string]string{"Origin": "https://rp.example"}
	preflight := map[string]string{
		"Origin": "https://rp.example", "Access-Control-Request-Method": "GET",
		"Access-Control-Request-Headers": "authorization", // lower case, as browsers send it
	}
	for _, path := range []string{discoveryPath, "/keys"} {
		t.Run(path, func(t *testing.T) {
			// /keys is op's answer; discovery is Tsubasa's document with
			// op's status and CORS.
			same := func(method string, header map[string]string) answer {
				if path == discoveryPath {
					got, _ := e.sameCORSAsOp(t, method, path, header)
					if method != http.MethodHead && got.status == http.StatusOK {
						e.ourDiscovery(t, got)
					}
					return got
				}
				return e.sameAsOp(t, method, path, header)
			}
			got := same(http.MethodGet, nil)
			if cc := got.header.Get("Cache-Control"); cc == "" {
				t.Errorf("GET %s: no Cache-Control", path)
			}
			if cl := got.header.Get("Content-Length"); cl != strconv.Itoa(len(got.body)) {
				t.Errorf("GET %s: Content-Length %q for %d bytes", path, cl, len(got.body))
			}
			cors := same(http.MethodGet, origin)
			if cors.header.Get("Access-Control-Allow-Origin") != origin["Origin"] {
				t.Errorf("GET %s with Origin: no CORS headers: %v", path, cors.header)
			}
			head := same(http.MethodHead, origin)
			if head.header.Get("Content-Length") != strconv.Itoa(len(got.body)) {
				t.Errorf("HEAD %s: Content-Length %q, GET body is %d bytes", path, head.header.Get("Content-Length"), len(got.body))
			}
			pre := same(http.MethodOptions, preflight)
			if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Methods") != "GET" {
				t.Errorf("preflight %s: %d %v", path, pre.status, pre.header)
			}
			if path == discoveryPath {
				// Other methods would get op's own document: refused.
				for _, m := range []string{http.MethodOptions, http.MethodPost} {
					if a := do(t, e.ours, m, path, origin); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "GET, HEAD" {
						t.Errorf("%s %s: %d, Allow %q; want 405 with Allow: GET, HEAD", m, path, a.status, a.header.Get("Allow"))
					}
				}
				return
			}
			// Not cached: these still reach op, which serves /keys for any
			// method.
			same(http.MethodOptions, origin)
			same(http.MethodPost, origin)
		})
	}
	// Spellings op's router does not match stay op's.
	for _, path := range []string{"/%6Beys", "/keys/", "/.well-known/openid-configuration/"} {
		e.sameAsOp(t, http.MethodGet, path, nil)
	}
}

func jwksKids(t *testing.T, body []byte) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// TestJWKSFollowsRotation: a rotation republishes at once, without a restart,
// while requests are in flight; discovery does not change.
func TestJWKSFollowsRotation(t *testing.T) {
	t.Parallel()
	e := newWellKnownEnv(t)
	discoveryBefore := do(t, e.ours, http.MethodGet, discoveryPath, nil).body
	before := jwksKids(t, e.sameAsOp(t, http.MethodGet, "/keys", nil).body)
	if len(before) != len(algorithms) { // one key per algorithm
		t.Fatalf("kids before rotation: %v", before)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				rec := httptest.NewRecorder()
				e.p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/keys", nil))
				if n := len(jwksKids(t, rec.Body.Bytes())); rec.Code != http.StatusOK || (n != len(algorithms) && n != 2*len(algorithms)) {
					t.Errorf("during rotation: %d with %d keys", rec.Code, n)
					return
				}
			}
		})
	}
	keys, err := e.p.RotateKeys(t.Context())
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	after := jwksKids(t, e.sameAsOp(t, http.MethodGet, "/keys", nil).body)
	if len(after) != 2*len(algorithms) {
		t.Fatalf("kids after rotation: %v", after)
	}
	for _, k := range keys {
		if !slices.Contains(after, k.ID) {
			t.Errorf("key %s (%s) not published after rotation: %v", k.ID, k.Algorithm, after)
		}
	}
	for _, kid := range before {
		if !slices.Contains(after, kid) {
			t.Errorf("retired key %s dropped at rotation", kid)
		}
	}
	if after := do(t, e.ours, http.MethodGet, discoveryPath, nil).body; string(after) != string(discoveryBefore) {
		t.Errorf("discovery changed with a rotation:\n%s\n%s", discoveryBefore, after)
	}
}
