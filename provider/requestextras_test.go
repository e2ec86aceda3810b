package provider

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

func TestParseExtras(t *testing.T) {
	const jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	otp, pwd := "urn:tsubasa:acr:otp", "urn:tsubasa:acr:pwd"
	for name, tt := range map[string]struct {
		form      url.Values
		claims    []string
		acr       []string
		essential bool
		fail      string
	}{
		"nothing":  {url.Values{}, nil, nil, false, ""},
		"dpop_jkt": {url.Values{"dpop_jkt": {jkt}}, nil, nil, false, ""},
		"ID token claims, unknown ones ignored": {url.Values{"claims": {`{"id_token":{"email":null,"x-unknown":null,"name":{"essential":true}},"userinfo":{"phone_number":null}}`}},
			[]string{"email", "name"}, nil, false, ""},
		"essential acr":                                {url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"values":["` + otp + `"]}}}`}}, []string{"acr"}, []string{otp}, true, ""},
		"voluntary acr by value":                       {url.Values{"claims": {`{"id_token":{"acr":{"value":"` + pwd + `"}}}`}}, []string{"acr"}, []string{pwd}, false, ""},
		"essential acr beats userinfo's voluntary one": {url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"values":["` + otp + `"]}},"userinfo":{"acr":{"values":["` + pwd + `"]}}}`}}, []string{"acr"}, []string{otp}, true, ""},
		"a dpop_jkt of 31 bytes":                       {url.Values{"dpop_jkt": {jkt[:41]}}, nil, nil, false, "dpop_jkt"},
		"claims not JSON":                              {url.Values{"claims": {"email"}}, nil, nil, false, "JSON object"},
		"claims a list":                                {url.Values{"claims": {`["email"]`}}, nil, nil, false, "JSON object"},
		"id_token a list":                              {url.Values{"claims": {`{"id_token":["email"]}`}}, nil, nil, false, "id_token"},
		"an entry that is a string":                    {url.Values{"claims": {`{"id_token":{"email":"yes"}}`}}, nil, nil, false, "id_token"},
		"acr values not strings":                       {url.Values{"claims": {`{"id_token":{"acr":{"values":[2]}}}`}}, nil, nil, false, "strings"},
		"essential acr never offered":                  {url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"values":["urn:other:loa:4"]}}}`}}, nil, nil, false, "acr_values_supported"},
		"a sub value":                                  {url.Values{"claims": {`{"id_token":{"sub":{"value":"someone"}}}`}}, nil, nil, false, "id_token_hint"},
	} {
		t.Run(name, func(t *testing.T) {
			x, oerr := parseExtras(tt.form)
			if tt.fail != "" {
				if oerr == nil || oerr.ErrorType != oidc.InvalidRequest || !strings.Contains(oerr.Description, tt.fail) {
					t.Fatalf("error %v, want invalid_request naming %s", oerr, tt.fail)
				}
				return
			}
			if oerr != nil {
				t.Fatal(oerr)
			}
			if !slices.Equal(x.idTokenClaims, tt.claims) || !slices.Equal(x.acrValues, tt.acr) || x.acrEssential != tt.essential {
				t.Errorf("extras %+v, want claims %v acr %v essential %v", x, tt.claims, tt.acr, tt.essential)
			}
		})
	}
}

func TestApplyExtras(t *testing.T) {
	otp, pwd := "urn:tsubasa:acr:otp", "urn:tsubasa:acr:pwd"
	for name, tt := range map[string]struct {
		x      requestExtras
		before []string
		want   []string
	}{
		"essential acr replaces acr_values":        {requestExtras{acrValues: []string{otp}, acrEssential: true}, []string{pwd}, []string{otp}},
		"voluntary acr only without acr_values":    {requestExtras{acrValues: []string{otp}}, []string{pwd}, []string{pwd}},
		"voluntary acr when acr_values are absent": {requestExtras{acrValues: []string{otp}}, nil, []string{otp}},
	} {
		r := storage.AuthRequest{ACRValues: tt.before}
		applyExtras(withExtras(t.Context(), tt.x), &r)
		if !slices.Equal(r.ACRValues, tt.want) {
			t.Errorf("%s: acr_values %v, want %v", name, r.ACRValues, tt.want)
		}
	}
}

// TestRequestedIDTokenClaims: the claims parameter moves claims the
// granted scopes release into the ID token, and nothing else.
func TestRequestedIDTokenClaims(t *testing.T) {
	m := storage.Member{Email: "a@example.com", EmailVerified: true, Phone: "+819012345678", FamilyName: "空野"}
	info := new(oidc.UserInfo)
	requestedIDTokenClaims(info, m, []string{"openid", "email"}, []string{"email", "email_verified", "phone_number", "family_name", "sub"})
	if info.Claims["email"] != "a@example.com" || info.Claims["email_verified"] != true {
		t.Errorf("email not added: %v", info.Claims)
	}
	for _, k := range []string{"phone_number", "family_name", "sub"} {
		if _, ok := info.Claims[k]; ok {
			t.Errorf("%s added though no granted scope releases it (or op sets it): %v", k, info.Claims)
		}
	}
}
