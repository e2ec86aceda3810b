package provider

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/provider/acr"
)

// What Tsubasa supports, as tables. The code that decides reads them (the
// authorization endpoint's checks, the token endpoint's grant gate, client
// authentication, op's configuration, the client adapter), and the
// discovery document is built from them, so discovery cannot advertise
// what is refused nor leave out what works. Adding a grant (the device
// grant, say) means adding it here, which also admits it at the token
// endpoint and advertises it. provider's metadata_test.go plays every
// response type and grant op knows against these tables.

// responseTypes are the response types /authorize answers, each with the
// grant a client must hold to ask for it. Every other response type is
// refused with unsupported_response_type (authorize.go): tokens never
// travel in the browser's URL.
var responseTypes = []responseType{
	{oidc.ResponseTypeCode, GrantAuthorizationCode},
}

type responseType struct {
	value oidc.ResponseType
	grant string // the grant a client needs to ask for this response type
}

// responseModes are the ways /authorize returns its answer. form_post is
// not one: op's form_post page submits itself with an inline script, which
// the login UI's Content-Security-Policy (script-src 'self') blocks, so the
// member would be left on a blank page.
var responseModes = []oidc.ResponseMode{oidc.ResponseModeQuery, oidc.ResponseModeFragment}

// grantTypes are the grants the token endpoint dispatches; gateGrants
// refuses every other one before op sees it (op would try the JWT bearer
// and token-exchange grants, among others, and fail them as server errors).
var grantTypes = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantDeviceCode}

// subjectTypes: first-party clients see the member id, third parties a
// pairwise subject per sector (subjectFor).
var subjectTypes = []string{"public", "pairwise"}

// codeChallengeMethods: PKCE with S256 only (plain is refused in
// CreateAuthRequest).
var codeChallengeMethods = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}

// Client authentication per endpoint: authenticateClient (clientauth.go)
// takes only the endpoint's methods, and of those only the one a client
// registered (its token_endpoint_auth_method). metadata_test.go plays
// every method at every endpoint against these lists. The pushed
// authorization request endpoint authenticates as the token endpoint does
// (RFC 9126 §2); introspection is for confidential clients only.
var (
	tokenAuthMethods = []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost,
		oidc.AuthMethodPrivateKeyJWT}
	revocationAuthMethods    = tokenAuthMethods
	parAuthMethods           = tokenAuthMethods
	introspectionAuthMethods = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT}
)

// clientSigningAlgs are the algorithms Tsubasa accepts on what clients sign:
// client assertions (private_key_jwt) and request objects. Asymmetric
// only: no HMAC, which would need a shared secret the server keeps in the
// clear, and never none.
var clientSigningAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256, jose.EdDSA}

var supportedScopes = []string{"openid", "profile", "email", "phone", ScopeMembership, "offline_access"}

var supportedClaims = []string{
	"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "sid",
	"name", "family_name", "given_name", "locale", "updated_at",
	"email", "email_verified", "phone_number", "phone_number_verified", "member_number",
}

func supportedResponseType(rt oidc.ResponseType) bool {
	return slices.ContainsFunc(responseTypes, func(t responseType) bool { return t.value == rt })
}

// discoveryDocument is OpenID Connect Discovery 1.0 §3 and RFC 8414 §2
// metadata. Booleans are written even when false: request_uri_parameter_supported
// defaults to true when absent, and relying parties (and the certification
// suite) read the others too.
type discoveryDocument struct {
	Issuer                 string   `json:"issuer"`
	AuthorizationEndpoint  string   `json:"authorization_endpoint"`
	TokenEndpoint          string   `json:"token_endpoint"`
	UserinfoEndpoint       string   `json:"userinfo_endpoint"`
	JWKSURI                string   `json:"jwks_uri"`
	RevocationEndpoint     string   `json:"revocation_endpoint"`
	IntrospectionEndpoint  string   `json:"introspection_endpoint"`
	EndSessionEndpoint     string   `json:"end_session_endpoint"`
	PAREndpoint            string   `json:"pushed_authorization_request_endpoint"`
	DeviceEndpoint         string   `json:"device_authorization_endpoint,omitempty"`
	ScopesSupported        []string `json:"scopes_supported"`
	ResponseTypesSupported []string `json:"response_types_supported"`
	ResponseModesSupported []string `json:"response_modes_supported"`
	GrantTypesSupported    []string `json:"grant_types_supported"`
	ACRValuesSupported     []string `json:"acr_values_supported"`
	SubjectTypesSupported  []string `json:"subject_types_supported"`

	IDTokenSigningAlgValuesSupported          []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported             []string `json:"code_challenge_methods_supported"`

	// The algorithms of private_key_jwt assertions at each endpoint that
	// takes them (RFC 8414 §2), and of request objects (OpenID Connect
	// Discovery 1.0 §3).
	TokenEndpointAuthSigningAlgs         []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpointAuthSigningAlgs    []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpointAuthSigningAlgs []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	RequestObjectSigningAlgs             []string `json:"request_object_signing_alg_values_supported"`
	// RFC 9449 §5.1: the algorithms of DPoP proofs.
	DPoPSigningAlgs []string `json:"dpop_signing_alg_values_supported"`

	ClaimsSupported              []string `json:"claims_supported"`
	UILocalesSupported           []string `json:"ui_locales_supported,omitempty"`
	ClaimsParameterSupported     bool     `json:"claims_parameter_supported"`
	RequestParameterSupported    bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported bool     `json:"request_uri_parameter_supported"`
	FrontchannelLogoutSupported  bool     `json:"frontchannel_logout_supported"`
	BackchannelLogoutSupported   bool     `json:"backchannel_logout_supported"`
	// Back-Channel Logout 1.0 §2.1: logout tokens carry sid.
	BackchannelLogoutSessionSupported bool `json:"backchannel_logout_session_supported"`
	// RFC 9126 §5: whether every client must push its requests.
	RequirePAR bool `json:"require_pushed_authorization_requests"`
	// RFC 9207 §3: every authorization response carries iss (iss.go).
	AuthorizationResponseIssSupported bool `json:"authorization_response_iss_parameter_supported"`
}

func strs[T ~string](l []T) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	return out
}

// discovery builds the document from the tables, op's endpoint paths and
// the signing algorithms.
func (p *Provider) discovery(ctx context.Context, prov *op.Provider) (discoveryDocument, error) {
	iss := p.opts.Issuer
	algs, err := (&opStorage{p}).SignatureAlgorithms(ctx)
	if err != nil {
		return discoveryDocument{}, err
	}
	device := ""
	if slices.Contains(grantTypes, string(oidc.GrantTypeDeviceCode)) { // routes.go serves it then
		device = prov.DeviceAuthorizationEndpoint().Absolute(iss)
	}
	return discoveryDocument{
		Issuer:                 iss,
		DeviceEndpoint:         device,
		AuthorizationEndpoint:  prov.AuthorizationEndpoint().Absolute(iss),
		TokenEndpoint:          prov.TokenEndpoint().Absolute(iss),
		UserinfoEndpoint:       prov.UserinfoEndpoint().Absolute(iss),
		JWKSURI:                prov.KeysEndpoint().Absolute(iss),
		RevocationEndpoint:     prov.RevocationEndpoint().Absolute(iss),
		IntrospectionEndpoint:  prov.IntrospectionEndpoint().Absolute(iss),
		EndSessionEndpoint:     prov.EndSessionEndpoint().Absolute(iss),
		PAREndpoint:            iss + parPath,
		ScopesSupported:        slices.Clone(supportedScopes),
		ResponseTypesSupported: strs(supportedResponseTypes()),
		ResponseModesSupported: strs(responseModes),
		GrantTypesSupported:    slices.Clone(grantTypes),
		ACRValuesSupported:     acr.Levels(),
		SubjectTypesSupported:  slices.Clone(subjectTypes),

		IDTokenSigningAlgValuesSupported:          strs(algs),
		TokenEndpointAuthMethodsSupported:         strs(tokenAuthMethods),
		RevocationEndpointAuthMethodsSupported:    strs(revocationAuthMethods),
		IntrospectionEndpointAuthMethodsSupported: strs(introspectionAuthMethods),
		CodeChallengeMethodsSupported:             strs(codeChallengeMethods),

		TokenEndpointAuthSigningAlgs:         strs(clientSigningAlgs),
		RevocationEndpointAuthSigningAlgs:    strs(clientSigningAlgs),
		IntrospectionEndpointAuthSigningAlgs: strs(clientSigningAlgs),
		RequestObjectSigningAlgs:             strs(clientSigningAlgs),
		DPoPSigningAlgs:                      strs(dpopSigningAlgs),

		ClaimsSupported:    slices.Clone(supportedClaims),
		UILocalesSupported: slices.Clone(p.opts.UILocales),
		// Signed request objects by value, from clients with keys
		// (requestobject.go); a request_uri only as the pushed
		// authorization request endpoint hands it out, never fetched
		// (par.go). The claims parameter is read (requestextras.go).
		RequestParameterSupported:         true,
		ClaimsParameterSupported:          true,
		RequirePAR:                        p.opts.RequirePAR,
		AuthorizationResponseIssSupported: true,
		// OpenID Connect Back-Channel Logout 1.0 (backchannel.go): every
		// logout token carries sid, and so does every ID token.
		BackchannelLogoutSupported:        true,
		BackchannelLogoutSessionSupported: true,
	}, nil
}

// encodeDiscovery is the discovery document as served: built once, since
// it changes only with the configuration, which takes a restart.
func (p *Provider) encodeDiscovery(ctx context.Context, prov *op.Provider) (*document, error) {
	doc, err := p.discovery(ctx, prov)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	return &document{
		body:          body,
		contentType:   []string{"application/json"},
		contentLength: []string{strconv.Itoa(len(body))},
		cacheControl:  []string{discoveryCacheControl},
	}, nil
}
