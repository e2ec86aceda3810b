package provider

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The request-object parser takes what any browser brings to /authorize.
// Whatever the input, it must not panic, and what it accepts must be a
// request of the expected client, made only of the parameters a request
// object may set, each given once.
//
//	go test -run '^$' -fuzz FuzzRequestObject ./provider
//	go test -run '^$' -fuzz FuzzRequestObjectClaims ./provider

const fuzzObjectClient = "partner"

func FuzzRequestObject(f *testing.F) {
	key := newPartnerKey(f, "fuzz-key")
	keys, err := parseClientJWKS([]byte(key.jwks))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	claims := map[string]any{"iss": fuzzObjectClient, "aud": wireIssuer, "exp": now.Add(time.Minute).Unix(),
		"response_type": "code", "client_id": fuzzObjectClient, "redirect_uri": "https://partner.example/cb",
		"scope": "openid", "state": "s", "nonce": "n", "max_age": 60, "claims": map[string]any{"userinfo": nil}}
	good := key.sign(f, claims, map[jose.HeaderKey]any{jose.HeaderType: requestObjectTyp})
	parts := strings.Split(good, ".")
	for _, seed := range []string{
		good,
		"eyJhbGciOiJub25lIn0." + parts[1] + ".",
		parts[0] + "." + parts[1] + ".AAAA",
		good + "." + good,
		"a.b.c.d.e",
		"",
		"...",
		"eyJhbGciOiJFUzI1NiJ9.e30.",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		obj, oerr := parseRequestObjectJWS(raw)
		if oerr != nil {
			if oerr.ErrorType != "invalid_request_object" || oerr.Description == "" {
				t.Fatalf("refusal %+v", oerr)
			}
			return
		}
		params, oerr := verifyRequestObject(obj, keys, fuzzObjectClient, wireIssuer, now)
		if oerr != nil {
			return
		}
		checkObjectParams(t, params)
	})
}

func FuzzRequestObjectClaims(f *testing.F) {
	for _, seed := range []string{
		`{"client_id":"partner","scope":"openid","max_age":60}`,
		`{"max_age":"60","claims":{"id_token":{"acr":{"essential":true}}}}`,
		`{"max_age":-1}`, `{"max_age":1e3}`, `{"claims":[]}`, `{"claims":null}`, `{"request_uri":"x"}`,
		`{"client_id":"web"}`, `{"scope":["openid"]}`, `{"nonce":null}`, `{}`, `[]`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var claims map[string]json.RawMessage
		if json.Unmarshal(data, &claims) != nil {
			return
		}
		params, oerr := objectClaims(claims, fuzzObjectClient)
		if oerr != nil {
			if oerr.ErrorType != "invalid_request_object" {
				t.Fatalf("refusal %+v", oerr)
			}
			return
		}
		checkObjectParams(t, params)
	})
}

func checkObjectParams(t *testing.T, params map[string][]string) {
	t.Helper()
	if got := params["client_id"]; len(got) != 1 || got[0] != fuzzObjectClient {
		t.Fatalf("accepted a request of client %v", got)
	}
	for k, v := range params {
		if !slices.Contains(objectParams, k) || len(v) != 1 {
			t.Fatalf("accepted parameter %s = %v", k, v)
		}
	}
	// What /authorize checks on raw parameters holds for an object's.
	if problem := formProblem(params); problem != "" {
		t.Fatalf("accepted parameters with a problem: %s", problem)
	}
}
