package ssf

import (
	"encoding/json"
	"time"
)

// Claims are a SET's claims (RFC 8417 §2.2; SSF 1.0 puts the subject in
// sub_id, RFC 9493).
type Claims struct {
	Issuer   string                    `json:"iss"`
	JTI      string                    `json:"jti"`
	IssuedAt int64                     `json:"iat"`
	Audience string                    `json:"aud"`
	SubID    SubjectID                 `json:"sub_id"`
	Events   map[string]map[string]any `json:"events"`
}

// SubjectID is an RFC 9493 subject identifier of the iss_sub format: the
// pair an ID token's iss and sub make.
type SubjectID struct {
	Format  string `json:"format"`
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
}

// NewClaims returns the claims of the SET of event id (uri, with its
// claims) about subject sub, for audience aud, issued now.
func NewClaims(issuer, aud, id, sub, uri string, event map[string]any, now time.Time) Claims {
	return Claims{Issuer: issuer, JTI: id, IssuedAt: now.Unix(), Audience: aud,
		SubID:  SubjectID{Format: "iss_sub", Issuer: issuer, Subject: sub},
		Events: map[string]map[string]any{uri: event}}
}

// JSON is the claims as the SET's payload.
func (c Claims) JSON() ([]byte, error) { return json.Marshal(c) }
