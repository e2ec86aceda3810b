package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// awayStore is a real store whose token, code and member reads fail as a
// database that does not answer fails (a refused connection) while away
// is set: the reads every grant, userinfo and introspection make.
type awayStore struct {
	*bolt.Store
	away atomic.Bool
	// writesAway fails only the token endpoint's two single-use writes
	// (the database went away between a grant's read and its write).
	writesAway atomic.Bool
	// requestsAway fails reads of authorization requests; sessionsAway
	// fails session reads and writes (a code's issue records its client
	// on the session).
	requestsAway, sessionsAway atomic.Bool
	// clientsAway fails reads of registered (not configured) clients.
	clientsAway atomic.Bool
}

func (s *awayStore) ClientByID(ctx context.Context, id string) (storage.Client, error) {
	if s.clientsAway.Load() {
		return storage.Client{}, errAway
	}
	return s.Store.ClientByID(ctx, id)
}

func (s *awayStore) AuthRequestByID(ctx context.Context, id string) (storage.AuthRequest, error) {
	if s.requestsAway.Load() {
		return storage.AuthRequest{}, errAway
	}
	return s.Store.AuthRequestByID(ctx, id)
}

func (s *awayStore) SessionByID(ctx context.Context, id string) (storage.Session, error) {
	if s.sessionsAway.Load() {
		return storage.Session{}, errAway
	}
	return s.Store.SessionByID(ctx, id)
}

func (s *awayStore) UpdateSession(ctx context.Context, id string, fn func(storage.Session) (storage.Session, error)) error {
	if s.sessionsAway.Load() {
		return errAway
	}
	return s.Store.UpdateSession(ctx, id, fn)
}

var errAway = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

func (s *awayStore) TokenByID(ctx context.Context, id string) (storage.Token, error) {
	if s.away.Load() {
		return storage.Token{}, errAway
	}
	return s.Store.TokenByID(ctx, id)
}

func (s *awayStore) PeekAuthCode(ctx context.Context, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, error) {
	if s.away.Load() {
		return storage.AuthCode{}, storage.AuthRequest{}, errAway
	}
	return s.Store.PeekAuthCode(ctx, hash, now)
}

func (s *awayStore) TokenRevoked(ctx context.Context, t storage.Token) (bool, error) {
	if s.away.Load() {
		return false, errAway
	}
	return s.Store.TokenRevoked(ctx, t)
}

func (s *awayStore) MemberByID(ctx context.Context, id string) (storage.Member, error) {
	if s.away.Load() {
		return storage.Member{}, errAway
	}
	return s.Store.MemberByID(ctx, id)
}

// tryAgain checks that rec is the answer to a request storage could not
// serve: 503 temporarily_unavailable with Retry-After, saying nothing of
// the cause, and never that the grant or token is invalid.
func tryAgain(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(body, `"error":"temporarily_unavailable"`) || strings.Contains(body, "refused") || strings.Contains(body, "dial") {
		t.Errorf("%s while storage is away: %d, Retry-After %q, %s; want 503 temporarily_unavailable with Retry-After and no cause",
			what, rec.Code, rec.Header().Get("Retry-After"), body)
	}
}

// While the database does not answer, a refresh token, a code and an
// access token are answered "try again" (503), not invalid_grant,
// invalid_token or inactive: a relying party told invalid_grant drops its refresh
// token, and its member has to log in again for an outage of seconds.
// Nothing was decided meanwhile: once the database answers, the same
// refresh token and code work.
func TestStorageAwayIsTryAgain(t *testing.T) {
	e, st, access, refresh, code := newAwayEnv(t)

	st.away.Store(true)
	tryAgain(t, "a refresh", e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, "web", wireSecret))
	tryAgain(t, "a code exchange", e.exchange(code, "web", wireRedirect))
	req := httptest.NewRequest(http.MethodGet, wireIssuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	tryAgain(t, "userinfo", e.serve(req))
	tryAgain(t, "introspection of the access token", e.post("/oauth/introspect", url.Values{"token": {access}}, "web", wireSecret))
	tryAgain(t, "introspection of the refresh token", e.post("/oauth/introspect", url.Values{"token": {refresh}}, "web", wireSecret))

	st.away.Store(false)
	if rec := e.post("/oauth/introspect", url.Values{"token": {access}}, "web", wireSecret); !strings.Contains(rec.Body.String(), `"active":true`) {
		t.Errorf("introspection of the access token once storage answers: %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, "web", wireSecret); rec.Code != http.StatusOK {
		t.Errorf("the same refresh token once storage answers: %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.exchange(code, "web", wireRedirect); rec.Code != http.StatusOK {
		t.Errorf("the same code once storage answers: %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown-token"}}, "web", wireSecret); rec.Code != http.StatusBadRequest ||
		!strings.Contains(rec.Body.String(), "invalid_grant") {
		t.Errorf("an unknown refresh token: %d %s, want invalid_grant", rec.Code, rec.Body.String())
	}
}

func (s *awayStore) RotateRefreshToken(ctx context.Context, oldID string, now time.Time, next ...storage.Token) (storage.Token, error) {
	if s.writesAway.Load() {
		return storage.Token{}, errAway
	}
	return s.Store.RotateRefreshToken(ctx, oldID, now, next...)
}

func (s *awayStore) ClaimAuthCode(ctx context.Context, hash string, now time.Time, ts ...storage.Token) (storage.AuthCode, storage.AuthRequest, error) {
	if s.writesAway.Load() {
		return storage.AuthCode{}, storage.AuthRequest{}, errAway
	}
	return s.Store.ClaimAuthCode(ctx, hash, now, ts...)
}

func (s *awayStore) ClaimAuthCodeFresh(ctx context.Context, hash string, now time.Time, check storage.CodeCheck, ts ...storage.Token) (storage.AuthCode, storage.ClaimVerdict, error) {
	if s.writesAway.Load() {
		return storage.AuthCode{}, storage.ClaimVerdict{}, errAway
	}
	return s.Store.ClaimAuthCodeFresh(ctx, hash, now, check, ts...)
}

// A database that goes away after a refresh token or code was read and
// before its single use was written decided nothing either: 503, and the
// same refresh token and code work once it is back. (The replicas'
// outage test found the rotation answering invalid_grant.)
func TestStorageAwayAtTheSingleUseWrite(t *testing.T) {
	e, st, _, refresh, code := newAwayEnv(t)
	st.writesAway.Store(true)
	tryAgain(t, "a refresh's rotation", e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, "web", wireSecret))
	tryAgain(t, "a code's claim", e.exchange(code, "web", wireRedirect))

	st.writesAway.Store(false)
	if rec := e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, "web", wireSecret); rec.Code != http.StatusOK {
		t.Errorf("the same refresh token once storage answers: %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.exchange(code, "web", wireRedirect); rec.Code != http.StatusOK {
		t.Errorf("the same code once storage answers: %d %s", rec.Code, rec.Body.String())
	}
}

// A finished request's answer while storage does not answer decided
// nothing either. A request that cannot be read is a 503 to the browser
// (op's own callback answered 400, printing the error's chain); a code
// that cannot be issued goes back to the relying party as
// temporarily_unavailable, never server_error (the replicas' outage test
// found that, the database gone while a code's session was written).
// Once storage answers, the same request yields its code.
func TestStorageAwayAtTheCallback(t *testing.T) {
	e, st, _, _, _ := newAwayEnv(t)
	id := e.doneRequest(t, "web", wireRedirect, e.member.SecurityStamp)
	callback := func() *httptest.ResponseRecorder {
		return e.serve(httptest.NewRequest(http.MethodGet, wireIssuer+"/authorize/callback?id="+url.QueryEscape(id), nil))
	}

	st.requestsAway.Store(true)
	rec := callback()
	if body := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		strings.Contains(body, "refused") || strings.Contains(body, "dial") || strings.Contains(body, id) {
		t.Errorf("the callback while requests cannot be read: %d, Retry-After %q, %q; want 503 with Retry-After and no cause",
			rec.Code, rec.Header().Get("Retry-After"), body)
	}
	// The login UI's refusal (prompt=none and the like) reads the request
	// too: not "unknown authorization request" while storage is away.
	fail := httptest.NewRecorder()
	e.p.FailAuthRequest(fail, httptest.NewRequest(http.MethodGet, wireIssuer+"/login", nil), id, "login_required", "log in first")
	if fail.Code != http.StatusServiceUnavailable || fail.Header().Get("Retry-After") == "" || strings.Contains(fail.Body.String(), "unknown") {
		t.Errorf("FailAuthRequest while requests cannot be read: %d %q; want 503 with Retry-After", fail.Code, fail.Body.String())
	}
	st.requestsAway.Store(false)

	st.sessionsAway.Store(true)
	rec = callback()
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if q := loc.Query(); rec.Code != http.StatusFound || !strings.HasPrefix(loc.String(), wireRedirect) ||
		q.Get("error") != "temporarily_unavailable" || q.Get("state") != "s" || q.Get("code") != "" ||
		strings.Contains(loc.String(), "refused") || strings.Contains(loc.String(), "dial") {
		t.Errorf("the callback while the code's session cannot be written: %d %s; want a redirect with error=temporarily_unavailable and the state",
			rec.Code, loc)
	}
	st.sessionsAway.Store(false)

	rec = callback()
	loc, _ = url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusFound || loc.Query().Get("code") == "" {
		t.Errorf("the same request once storage answers: %d %s, want a redirect with a code", rec.Code, loc)
	}
}

// A client registered in the database (not in the config) that cannot be
// read while storage does not answer is not an unknown client: op
// answered its authorization requests 400 "unknown client"; they are
// 503, nothing stored, and the same request works once storage answers.
func TestStorageAwayAtAuthorize(t *testing.T) {
	e, st, _, _, _ := newAwayEnv(t)
	c := storage.Client{ID: "registered", Public: true, RedirectURIs: []string{"https://registered.example/cb"},
		GrantTypes: []string{GrantAuthorizationCode}, Scopes: []string{"openid"}}
	if err := st.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(wireVerifier))
	q := url.Values{"client_id": {"registered"}, "redirect_uri": {"https://registered.example/cb"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}

	st.clientsAway.Store(true)
	rec, id := e.authorizeQuery(t, q)
	if body := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || id != "" ||
		strings.Contains(body, "refused") || strings.Contains(body, "unknown") {
		t.Errorf("/authorize while its client cannot be read: %d, Retry-After %q, %q; want 503 with Retry-After and no cause",
			rec.Code, rec.Header().Get("Retry-After"), body)
	}
	st.clientsAway.Store(false)
	if rec, id := e.authorizeQuery(t, q); id == "" {
		t.Errorf("the same request once storage answers: %d %q, want the login page", rec.Code, rec.Header().Get("Location"))
	}
	q.Set("client_id", "nobody")
	if rec, _ := e.authorizeQuery(t, q); rec.Code != http.StatusBadRequest {
		t.Errorf("an unknown client: %d, want 400", rec.Code)
	}
}

// newAwayEnv is a provider on an awayStore with a member logged in at
// client web: its access and refresh tokens, and a code not yet redeemed.
func newAwayEnv(t *testing.T) (e *wireEnv, st *awayStore, access, refresh, code string) {
	t.Helper()
	e = newWireEnvWith(t, func(o *Options) {
		st = &awayStore{Store: o.Store.(*bolt.Store)}
		o.Store = st
	})
	access, refresh = e.login(t, "web", wireRedirect)
	code = e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	return e, st, access, refresh, code
}
