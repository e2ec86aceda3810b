package conformance

import "testing"

// modules are the test modules of the OpenID Foundation's Basic OP and
// Config OP certification plans (and the plans' optional modules this
// suite also plays), each with the test that plays it. The README's
// "Conformance" table lists the same.
var modules = []struct {
	id   string
	play func(*testing.T, *provider)
}{
	{"oidcc-discovery-endpoint-verification", discoveryEndpointVerification},
	{"oidcc-server", server},
	{"oidcc-alternate-happy-flow", alternateHappyFlow},
	{"oidcc-ensure-other-scope-order-succeeds", otherScopeOrder},
	{"oidcc-response-type-missing", responseTypeMissing},
	{"oidcc-userinfo-get", userinfoGet},
	{"oidcc-userinfo-post-header", userinfoPostHeader},
	{"oidcc-userinfo-post-body", userinfoPostBody},
	{"oidcc-ensure-request-without-nonce-succeeds-for-code-flow", withoutNonce},
	{"oidcc-ensure-post-request-succeeds", postRequest},
	{"oidcc-ensure-request-with-valid-pkce-succeeds", validPKCE},
	{"oidcc-scope-profile", scopeProfile},
	{"oidcc-scope-email", scopeEmail},
	{"oidcc-scope-address", scopeAddress},
	{"oidcc-scope-phone", scopePhone},
	{"oidcc-scope-all", scopeAll},
	{"oidcc-display-page", displayPage},
	{"oidcc-display-popup", displayPopup},
	{"oidcc-prompt-login", promptLogin},
	{"oidcc-prompt-none-not-logged-in", promptNoneNotLoggedIn},
	{"oidcc-prompt-none-logged-in", promptNoneLoggedIn},
	{"oidcc-max-age-1", maxAge1},
	{"oidcc-max-age-10000", maxAge10000},
	{"oidcc-ensure-request-with-unknown-parameter-succeeds", unknownParameter},
	{"oidcc-id-token-hint", idTokenHint},
	{"oidcc-login-hint", loginHint},
	{"oidcc-ui-locales", uiLocales},
	{"oidcc-claims-locales", claimsLocales},
	{"oidcc-ensure-request-with-acr-values-succeeds", acrValues},
	{"oidcc-codereuse", codeReuse},
	{"oidcc-codereuse-30seconds", codeReuse30Seconds},
	{"oidcc-ensure-registered-redirect-uri", registeredRedirectURI},
	{"oidcc-server-client-secret-post", clientSecretPost},
	{"oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", unsignedRequestObject},
	{"oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported", requestURIUnsigned},
	{"oidcc-claims-essential", claimsEssential},
	{"oidcc-ensure-request-object-with-redirect-uri", requestObjectWithRedirectURI},
	{"oidcc-refresh-token", refreshToken},
	{"oidcc-idtoken-signature", idTokenSignature},
	{"oidcc-idtoken-unsigned", idTokenUnsigned},
}

// TestOIDCC plays every module against one server, then the clauses no
// module plays (clauses_test.go); each is a subtest named by its id.
func TestOIDCC(t *testing.T) {
	p := startProvider(t)
	for _, m := range append(modules, clauses...) {
		t.Run(m.id, func(t *testing.T) { m.play(t, p) })
	}
}
