package member

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"tsubasa/provider/clientaddr"
)

// TelephoneCaller is the client a telephone API request comes from, as its
// access token says; MemberID is set when the token was issued for a member.
type TelephoneCaller struct {
	ClientID string
	MemberID string
}

// What TelephoneAuthorizer reports about a token that is not right for the
// telephone API. Any other error means the token is invalid, expired or
// revoked.
var (
	// ErrTokenForMember: the token was issued for a member (authorization
	// code or refresh), not obtained by the client for itself.
	ErrTokenForMember = errors.New("member: the token was issued for a member")
	// ErrTokenScope: the token lacks the telephone scope.
	ErrTokenScope = errors.New("member: the token lacks the telephone scope")
)

// TelephoneAuthorizer checks the access token of a telephone API request,
// a Bearer token or a DPoP-bound one with its proof (RFC 9449), which is
// why it takes the whole request: the proof names its method and URL. The
// OpenID provider owns tokens, so the composition root passes one built
// on its service-token check. An error may be a *TokenRefusal, answered
// as it says.
type TelephoneAuthorizer func(r *http.Request) (TelephoneCaller, error)

// TokenRefusal is a refusal the authorizer words itself (a DPoP proof
// that fails, a bound token sent as a Bearer token): the status, the
// OAuth error and its description, and the headers to send (the
// WWW-Authenticate challenges, DPoP-Nonce).
type TokenRefusal struct {
	Status      int
	Code        string
	Description string
	Header      http.Header
}

func (e *TokenRefusal) Error() string { return e.Description }

// NewTelephoneAPI returns the call centre's PIN check, served at
// POST /api/telephone/verify: a client-credentials access token carrying
// the telephone scope, and a JSON body naming the member and the PIN. The
// legacy 6-digit PIN stays valid here after the web cutover; a password
// never works here.
//
// Only a token the call centre's client obtained for itself is accepted:
// a token issued for a member (authorization code or refresh) is refused
// whatever its scopes, with 401 invalid_token. RFC 6750 section 3.1 keeps
// insufficient_scope (403) for a token that would do with more scope;
// no scope makes a member's token right for this API, so it is "invalid
// for other reasons", as RFC 9068 section 4 treats a token meant for
// another use. The client must get its own token by client_credentials.
func NewTelephoneAPI(s *Service, authorize TelephoneAuthorizer, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return &telephoneAPI{members: s, authorize: authorize, log: log}
}

type telephoneAPI struct {
	members   *Service
	authorize TelephoneAuthorizer
	log       *slog.Logger
}

type telephoneRequest struct {
	MemberNumber string `json:"member_number"`
	PIN          string `json:"pin"`
}

func (a *telephoneAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if r.Header.Get("Authorization") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tsubasa", scope="telephone"`)
		w.Header().Add("WWW-Authenticate", `DPoP algs="ES256 PS256 RS256 EdDSA"`)
		telephoneError(w, http.StatusUnauthorized, "invalid_token", "an access token (Bearer, or DPoP with its proof) with the telephone scope is required")
		return
	}
	tok, err := a.authorize(r)
	var refusal *TokenRefusal
	switch {
	case errors.As(err, &refusal):
		for k, v := range refusal.Header {
			w.Header()[k] = v
		}
		telephoneError(w, refusal.Status, refusal.Code, refusal.Description)
		return
	case errors.Is(err, ErrTokenForMember):
		a.log.WarnContext(r.Context(), "telephone API: a member's token refused", "client_id", tok.ClientID, "member_id", tok.MemberID)
		const desc = "this API accepts only a token the client obtained for itself with client_credentials; this token was issued for a member"
		w.Header().Set("WWW-Authenticate", `Bearer realm="tsubasa", error="invalid_token", error_description="`+desc+`"`)
		telephoneError(w, http.StatusUnauthorized, "invalid_token", desc)
		return
	case errors.Is(err, ErrTokenScope):
		w.Header().Set("WWW-Authenticate", `Bearer realm="tsubasa", error="insufficient_scope", scope="telephone"`)
		telephoneError(w, http.StatusForbidden, "insufficient_scope", "the token lacks the telephone scope")
		return
	case err != nil:
		w.Header().Set("WWW-Authenticate", `Bearer realm="tsubasa", error="invalid_token"`)
		telephoneError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		return
	}
	var req telephoneRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		telephoneError(w, http.StatusBadRequest, "invalid_request", "the body must be JSON {\"member_number\": \"…\", \"pin\": \"…\"}")
		return
	}
	if dec.More() {
		telephoneError(w, http.StatusBadRequest, "invalid_request", "the body must hold exactly one JSON object")
		return
	}
	switch {
	case req.MemberNumber == "":
		telephoneError(w, http.StatusBadRequest, "invalid_request", "member_number is required")
		return
	case req.PIN == "":
		telephoneError(w, http.StatusBadRequest, "invalid_request", "pin is required")
		return
	}
	res, err := a.members.VerifyTelephonePIN(r.Context(), req.MemberNumber, req.PIN, clientaddr.From(r))
	if err != nil {
		a.log.ErrorContext(r.Context(), "telephone PIN check failed", "client_id", tok.ClientID, "err", err)
		telephoneError(w, http.StatusInternalServerError, "server_error", "the check could not be completed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"result": string(res)})
}

func telephoneError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
