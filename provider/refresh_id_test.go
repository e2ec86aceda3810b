package provider

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

// newRefreshValue is a refresh token value as issued before the sealed
// format (refreshPrefix): still keyed by its time, and read from its row.
func newRefreshValue(now time.Time) string {
	return fmt.Sprintf("%s%016x%s", refreshPrefix, uint64(now.UnixNano()), newID(32))
}

func TestRefreshTokenIDs(t *testing.T) {
	p := &Provider{opts: Options{HMACKey: []byte("0123456789abcdef0123456789abcdef")}}
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

	var values, ids []string
	for i := range 5 {
		v := newRefreshValue(t0.Add(time.Duration(5-i) * time.Millisecond)) // issued newest first
		values, ids = append(values, v), append(ids, p.refreshTokenID(v))
	}
	for i, v := range values {
		if !strings.HasPrefix(v, refreshPrefix) || len(v) < len(refreshPrefix)+16+43 {
			t.Fatalf("value %q: want %s, 16 hex digits and 32 random bytes", v, refreshPrefix)
		}
		if ids[i] == p.refreshTokenID(values[(i+1)%len(values)]) {
			t.Fatal("two values share a key")
		}
		if strings.Contains(ids[i], v) || strings.Contains(ids[i], v[len(refreshPrefix)+16:]) {
			t.Fatalf("the key %q contains the secret part of the value", ids[i])
		}
	}
	// Keys sort by issue time, so tokens issued together sit together.
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	if !slices.Equal(sorted, ids) {
		t.Errorf("keys do not sort by issue time:\n%q", ids)
	}

	// Values from before the time prefix, and anything malformed, are keyed
	// by the HMAC alone, so old refresh tokens keep working.
	for _, v := range []string{"rt_" + newID(32), refreshPrefix + "XYZ", refreshPrefix + "0123456789ABCDEF" + newID(32), refreshPrefix + "0123456789abcdef"} {
		if got, want := p.refreshTokenID(v), p.tokenHash("refresh", v); got != want {
			t.Errorf("%q keyed %q, want the HMAC alone", v, got)
		}
	}
}

func TestTimeIDsAndCodeKeys(t *testing.T) {
	p := newWellKnownEnv(t).p
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	a, b := timeID(t0, 18), timeID(t0.Add(time.Microsecond), 18)
	if len(a) != 16+24 || timePrefix(a) != fmt.Sprintf("%016x", t0.UnixNano()) || !(a < b) {
		t.Fatalf("timeID: %q then %q, want 16 hex digits of time and 24 characters of randomness, in order", a, b)
	}
	if timeID(t0, 18) == a {
		t.Fatal("two ids of the same instant are equal")
	}

	// A code's key starts with its request's time, also when the key is
	// found from the code alone (op's code is the request id, encrypted).
	code, err := p.op.Crypto().Encrypt(a)
	if err != nil {
		t.Fatal(err)
	}
	key := p.codeKey(a, code)
	if !strings.HasPrefix(key, a[:16]+".") || strings.Contains(key, code) {
		t.Fatalf("code key %q", key)
	}
	if id, _, _ := p.openCode(code); p.codeKey(id, code) != key {
		t.Errorf("key from the code alone %q, want %q", p.codeKey(id, code), key)
	}
	// Requests with older ids are keyed by the HMAC alone; the token
	// endpoint refuses their codes, long expired, without a read, as it
	// does codes that do not decrypt (TestCodeExchangeFromWhatTheCodeCarries).
	old := newID(24)
	oldCode, _ := p.op.Crypto().Encrypt(old)
	if got, want := p.codeKey(old, oldCode), p.tokenHash("code", oldCode); got != want {
		t.Errorf("old request's code keyed %q, want the HMAC alone", got)
	}
	if id, _, _ := p.openCode("forged"); id != "" {
		t.Errorf("a forged code opens to the id %q", id)
	}
}

func TestCheckExchange(t *testing.T) {
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	pkce := &authRequest{r: storage.AuthRequest{ClientID: "web", RedirectURI: "https://web.example/cb",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256"}}
	plain := &authRequest{r: storage.AuthRequest{ClientID: "web", RedirectURI: "https://web.example/cb"}}
	good := exchange{clientID: "web", redirectURI: "https://web.example/cb", verifier: verifier}
	for _, c := range []struct {
		name string
		ex   exchange
		a    *authRequest
		want bool
	}{
		{"all matches", good, pkce, true},
		{"no PKCE, no verifier", exchange{clientID: "web", redirectURI: "https://web.example/cb"}, plain, true},
		{"another client", exchange{clientID: "shop", redirectURI: good.redirectURI, verifier: verifier}, pkce, false},
		{"another redirect URI", exchange{clientID: "web", redirectURI: "https://web.example/cb2", verifier: verifier}, pkce, false},
		{"no verifier for a challenge", exchange{clientID: "web", redirectURI: good.redirectURI}, pkce, false},
		{"wrong verifier", exchange{clientID: "web", redirectURI: good.redirectURI, verifier: verifier + "x"}, pkce, false},
		{"verifier without a challenge", good, plain, false},
	} {
		if got := checkExchange(c.ex, c.a); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
