package provider

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// codeNotCarried are the request's fields a code does not carry, and why:
// a new field must be carried (appendCodeGrant) or named here.
var codeNotCarried = map[string]string{
	"State":          "the client's own, sent back with the code; the token endpoint never reads it",
	"ResponseMode":   "how the answer was sent",
	"Prompt":         "decided by the login",
	"MaxAge":         "decided by the login; auth_time is in every ID token",
	"UILocales":      "the login pages'",
	"LoginHint":      "the login pages'",
	"ACRValues":      "decided by the login; ACR is what it achieved",
	"HintSubject":    "checked at /authorize",
	"DeviceGrant":    "a device grant's request is never answered with a code",
	"BrowserSession": "the login's binding to the browser",
	"CreatedAt":      "the request's lifetime ends with its code",
	"ExpiresAt":      "the request's lifetime ends with its code",
}

// TestCodeCarriesEveryFieldTheExchangeUses sets every field of a request
// by reflection: what a code carries comes back as it was, what it does
// not is named in codeNotCarried, and a new field fails here until it is
// one or the other.
func TestCodeCarriesEveryFieldTheExchangeUses(t *testing.T) {
	var r storage.AuthRequest
	v := reflect.ValueOf(&r).Elem()
	base := time.Date(2026, 12, 7, 9, 0, 0, 123456789, time.UTC)
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch f.Interface().(type) {
		case string:
			f.SetString("v-" + name)
		case []string:
			f.Set(reflect.ValueOf([]string{"a-" + name, "b-" + name}))
		case bool:
			f.SetBool(true)
		case time.Time:
			f.Set(reflect.ValueOf(base.Add(time.Duration(i) * time.Second)))
		case *int64:
			n := int64(i)
			f.Set(reflect.ValueOf(&n))
		default:
			t.Fatalf("field %s of type %s: teach this test (and appendCodeGrant) its type", name, f.Type())
		}
	}
	for name := range codeNotCarried {
		if !v.FieldByName(name).IsValid() {
			t.Errorf("codeNotCarried names %s, which storage.AuthRequest no longer has", name)
		}
	}
	c := storage.AuthCode{CreatedAt: base.Add(time.Hour), ExpiresAt: base.Add(time.Hour + time.Minute)}
	b := appendCodeGrant(nil, codeGrantOf(r), c)
	got, err := readCodeGrant(r.ID, b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.c.CreatedAt.Equal(c.CreatedAt) || !got.c.ExpiresAt.Equal(c.ExpiresAt) || got.c.AuthRequestID != r.ID {
		t.Errorf("the code's record: %+v, want %+v for %s", got.c, c, r.ID)
	}
	gv := reflect.ValueOf(got.r)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		want, have := v.Field(i).Interface(), gv.Field(i).Interface()
		if _, skip := codeNotCarried[name]; skip {
			if !gv.Field(i).IsZero() {
				t.Errorf("%s is not carried, but came back as %v", name, have)
			}
			continue
		}
		if wt, ok := want.(time.Time); ok {
			if !wt.Equal(have.(time.Time)) {
				t.Errorf("%s: %v, want %v", name, have, wt)
			}
			continue
		}
		if !reflect.DeepEqual(have, want) {
			t.Errorf("%s: %v, want %v", name, have, want)
		}
	}
	if !sameCodeGrant(r, got.r) {
		t.Error("sameCodeGrant tells a request from what its code carries")
	}
	other := r
	other.Nonce = "another"
	if sameCodeGrant(r, other) {
		t.Error("sameCodeGrant finds requests with different nonces alike")
	}
	// Whatever is cut off or added is refused.
	for i := range b {
		if _, err := readCodeGrant(r.ID, b[:i]); err == nil {
			t.Fatalf("the grant cut at %d of %d bytes reads", i, len(b))
		}
	}
	if _, err := readCodeGrant(r.ID, append(b[:len(b):len(b)], 0)); err == nil {
		t.Error("the grant with a byte more reads")
	}
}

// readCounter counts the reads a code exchange could make.
type readCounter struct {
	storage.Store
	peeks, revokedReads, memberReads atomic.Int32
}

func (s *readCounter) PeekAuthCode(ctx context.Context, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, error) {
	s.peeks.Add(1)
	return s.Store.PeekAuthCode(ctx, hash, now)
}

func (s *readCounter) TokenRevoked(ctx context.Context, t storage.Token) (bool, error) {
	s.revokedReads.Add(1)
	return s.Store.TokenRevoked(ctx, t)
}

func (s *readCounter) MemberByID(ctx context.Context, id string) (storage.Member, error) {
	s.memberReads.Add(1)
	return s.Store.MemberByID(ctx, id)
}

// invalidGrant checks that rec refuses a code with invalid_grant saying
// what.
func invalidGrant(t *testing.T, what string, rec interface {
	Result() *http.Response
}, body, says string) {
	t.Helper()
	if rec.Result().StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error":"invalid_grant"`) || !strings.Contains(body, says) {
		t.Errorf("%s: %d %s, want invalid_grant saying %q", what, rec.Result().StatusCode, body, says)
	}
}

// A code carries its request: the exchange reads no code, request or
// revocation before its claim, and the claim still refuses what the read
// refused (a session ended or credentials changed since the code, a
// replay, an expired code), and spends a code presented wrongly. A
// replica of the previous version finds the same code's row.
func TestCodeExchangeFromWhatTheCodeCarries(t *testing.T) {
	var st *readCounter
	e := newWireEnvWith(t, func(o *Options) {
		st = &readCounter{Store: o.Store.(*bolt.Store)}
		o.Store = st
	})
	ctx := context.Background()

	code := e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	id, sc, sealed := e.p.openCode(code)
	if !sealed || sc.r.ClientID != "web" || sc.r.MemberStamp != e.member.SecurityStamp || !sc.r.CodeIssued {
		t.Fatalf("the code carries %+v (sealed %v)", sc.r, sealed)
	}
	t.Logf("a code is %d characters", len(code))
	if len(code) > 1024 {
		t.Errorf("a code of %d characters: keep it within 1 KB", len(code))
	}
	// The previous version's key: op's decryption of the code, whose time
	// prefix it takes from what it decrypts.
	plain, err := e.p.op.Crypto().Decrypt(code)
	if err != nil {
		t.Fatal(err)
	}
	if old, now := e.p.codeKey(plain, code), e.p.codeKey(id, code); old != now {
		t.Errorf("the previous version keys the code %q, this one %q", old, now)
	} else if c, r, err := e.st.PeekAuthCode(ctx, old, e.clock.Now()); err != nil || r.ID != id || c.Consumed {
		t.Errorf("the previous version's read of the code: %+v, %+v, %v", c, r, err)
	}

	st.peeks.Store(0)
	st.revokedReads.Store(0)
	st.memberReads.Store(0)
	if rec := e.exchange(code, "web", wireRedirect); rec.Code != http.StatusOK {
		t.Fatalf("exchange: %d %s", rec.Code, rec.Body.String())
	}
	if n, m := st.peeks.Load(), st.revokedReads.Load(); n != 0 || m != 0 {
		t.Errorf("the exchange read the code %d times and the revocations %d: want neither", n, m)
	}
	if n := st.memberReads.Load(); n != 1 {
		t.Errorf("the exchange read the member %d times: want once, before the claim, for the ID token too", n)
	}
	rec := e.exchange(code, "web", wireRedirect)
	invalidGrant(t, "a replay", rec, rec.Body.String(), "already been used")

	// A tampered code is refused without a read.
	tampered := code[:len(code)/2] + string(rune('A'+(code[len(code)/2]-'A'+1)%26)) + code[len(code)/2+1:]
	rec = e.exchange(tampered, "web", wireRedirect)
	invalidGrant(t, "a tampered code", rec, rec.Body.String(), "unknown or expired")
	if n := st.peeks.Load(); n != 0 {
		t.Errorf("a tampered code was looked up %d times", n)
	}

	// A session ended after the code was issued: no tokens, and the code
	// is spent.
	code = e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	e.clock.Advance(time.Millisecond)
	if _, err := e.st.DeleteTokens(ctx, storage.TokenFilter{SessionID: "s-wire"}); err != nil {
		t.Fatal(err)
	}
	rec = e.exchange(code, "web", wireRedirect)
	invalidGrant(t, "a code of an ended session", rec, rec.Body.String(), "has ended")
	rec = e.exchange(code, "web", wireRedirect)
	invalidGrant(t, "the code of an ended session again", rec, rec.Body.String(), "already been used")
	e.clock.Advance(2 * time.Second) // past the revocation, made by the store's own clock

	// Credentials changed after the code was issued.
	code = e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	if err := e.st.UpdateMember(ctx, e.member.ID, func(m storage.Member) (storage.Member, error) {
		m.SecurityStamp = "stamp-2"
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	rec = e.exchange(code, "web", wireRedirect)
	invalidGrant(t, "a code from before a credential change", rec, rec.Body.String(), "credentials changed")
	e.member.SecurityStamp = "stamp-2"

	// Presented with the wrong verifier, the code is spent.
	code = e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	form := map[string][]string{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {wireRedirect}, "code_verifier": {strings.Repeat("x", 43)}}
	rec = e.post("/oauth/token", form, "web", wireSecret)
	invalidGrant(t, "the wrong verifier", rec, rec.Body.String(), "")
	rec = e.exchange(code, "web", wireRedirect)
	invalidGrant(t, "the right verifier after the wrong one", rec, rec.Body.String(), "already been used")

	// Presented by another client, the code is spent too.
	code = e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	rec = e.exchange(code, "other", "https://other.example/cb")
	invalidGrant(t, "another client", rec, rec.Body.String(), "")
	rec = e.exchange(code, "web", wireRedirect)
	invalidGrant(t, "its own client after another's", rec, rec.Body.String(), "already been used")

	// An expired code is refused without a read or a claim.
	code = e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	e.clock.Advance(time.Minute)
	st.peeks.Store(0)
	rec = e.exchange(code, "web", wireRedirect)
	invalidGrant(t, "an expired code", rec, rec.Body.String(), "unknown or expired")
	if n := st.peeks.Load(); n != 0 {
		t.Errorf("an expired code was looked up %d times", n)
	}

	// A code of the previous version is exchanged from its row.
	code = e.legacyCode(t, "web", wireRedirect, e.member.SecurityStamp)
	if _, _, sealed := e.p.openCode(code); sealed {
		t.Fatal("a legacy code opens as one that carries its request")
	}
	if rec := e.exchange(code, "web", wireRedirect); rec.Code != http.StatusOK {
		t.Fatalf("a legacy code's exchange: %d %s", rec.Code, rec.Body.String())
	}
	if n := st.peeks.Load(); n != 1 {
		t.Errorf("a legacy code was looked up %d times, want once", n)
	}
}

// SaveAuthCode stores a code only if what it carries is the request as
// stored with it: a code carrying another request (another nonce, a
// stamp from before) is refused, and the request can still be answered.
func TestCodeCarryingAnotherRequestIsNotStored(t *testing.T) {
	e := newWireEnv(t)
	ctx := context.Background()
	id := e.doneRequest(t, "web", wireRedirect, e.member.SecurityStamp)
	r, err := e.st.AuthRequestByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, change := range []func(*storage.AuthRequest){
		func(r *storage.AuthRequest) { r.Nonce = "another" },
		func(r *storage.AuthRequest) { r.MemberStamp = "stamp-0" },
		func(r *storage.AuthRequest) { r.Scopes = append(r.Scopes, "membership") },
	} {
		forged := r.Clone()
		change(&forged)
		s := e.p.newCodeSealer(ctx, forged)
		code, err := s.Encrypt(id)
		if err != nil {
			t.Fatal(err)
		}
		// From the sealer in the same HTTP request, and opened from the code.
		for _, c := range []context.Context{withCodeSealer(ctx, s), ctx} {
			if err := (&opStorage{e.p}).SaveAuthCode(c, id, code); !errors.Is(err, errRequestChanged) {
				t.Fatalf("a code carrying %+v for %+v: %v, want it refused as carrying another request", forged, r, err)
			}
		}
		if rec := e.exchange(code, "web", wireRedirect); rec.Code != http.StatusBadRequest {
			t.Errorf("the refused code's exchange: %d %s", rec.Code, rec.Body.String())
		}
	}
	if got, err := e.st.AuthRequestByID(ctx, id); err != nil || got.CodeIssued {
		t.Fatalf("the request after the refused codes: %+v, %v; want it unanswered", got, err)
	}
	s := e.p.newCodeSealer(ctx, r)
	code, err := s.Encrypt(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&opStorage{e.p}).SaveAuthCode(ctx, id, code); err != nil {
		t.Fatalf("the request's own code: %v", err)
	}
	if rec := e.exchange(code, "web", wireRedirect); rec.Code != http.StatusOK {
		t.Errorf("the request's own code's exchange: %d %s", rec.Code, rec.Body.String())
	}
}

// What a code carries is read only after op's authenticated decryption,
// so its bytes are this provider's own; the reader must still refuse,
// never panic on, whatever a future format or a bug hands it, and what it
// accepts must read back the same once written again.
//
//	go test -run '^$' -fuzz FuzzReadCodeGrant ./provider
func FuzzReadCodeGrant(f *testing.F) {
	r := storage.AuthRequest{ID: "18ef1a4e1413f6d6abc", ClientID: "web", RedirectURI: "https://rp.example/cb", Nonce: "n",
		ResponseType: "code", Scopes: []string{"openid", "offline_access"}, CodeChallenge: "c", CodeChallengeMethod: "S256",
		MemberID: "m1", Done: true, AuthTime: time.Unix(1_800_000_000, 5), ACR: "urn:tsubasa:acr:pwd", AMR: []string{"pwd"},
		SessionID: "s1", CodeIssued: true, MemberStamp: "stamp-1"}
	c := storage.AuthCode{CreatedAt: time.Unix(1_800_000_001, 0), ExpiresAt: time.Unix(1_800_000_061, 0)}
	f.Add(appendCodeGrant(nil, codeGrantOf(r), c))
	f.Add([]byte{codeSealFormat})
	f.Add([]byte{codeSealFormat, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := readCodeGrant(r.ID, b)
		if err != nil {
			return
		}
		again, err := readCodeGrant(r.ID, appendCodeGrant(nil, sc.r, sc.c))
		if err != nil || !reflect.DeepEqual(again, sc) {
			t.Fatalf("read %x as %+v, which reads back as %+v (%v)", b, sc, again, err)
		}
	})
}
