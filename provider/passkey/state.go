package passkey

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"tsubasa/provider/seal"
	"tsubasa/storage"
)

// Ceremony kinds recorded in the state, so that one ceremony's state cannot
// finish the other.
const (
	kindRegistration = "registration"
	kindLogin        = "login"
)

// State string prefixes: the encoding and its version.
const (
	plainPrefix  = "p1."
	sealedPrefix = "s1."
)

// maxStateLen bounds what openState will decode; a real state is well under
// 1 KiB.
const maxStateLen = 8 << 10

// stateAAD binds sealed states to their purpose, so a value sealed with the
// same key for something else never opens here.
var stateAAD = []byte("tsubasa/passkey/ceremony-state/v1")

// ceremonyState is everything Finish needs from Begin: go-webauthn's
// SessionData (challenge, RP ID, user handle, UV requirement, requested
// extensions), the member a registration is for, and when it began.
type ceremonyState struct {
	Kind      string               `json:"kind"`
	MemberID  string               `json:"member_id,omitempty"`
	CreatedAt time.Time            `json:"created_at"`
	Session   webauthn.SessionData `json:"session"`
}

// stateCodec turns ceremony states into opaque strings and back: sealed
// with AES-256-GCM when a key is configured, plain base64url JSON otherwise.
type stateCodec struct {
	box *seal.Box // nil: plain
}

func newStateCodec(key []byte) (stateCodec, error) {
	if len(key) == 0 {
		return stateCodec{}, nil
	}
	if len(key) < 32 {
		return stateCodec{}, errors.New("passkey: StateKey must be at least 32 bytes")
	}
	k, err := hkdf.Key(sha256.New, key, nil, "tsubasa passkey ceremony state", 32)
	if err != nil {
		return stateCodec{}, fmt.Errorf("passkey: derive state key: %w", err)
	}
	box, err := seal.New(k)
	if err != nil {
		return stateCodec{}, fmt.Errorf("passkey: state cipher: %w", err)
	}
	return stateCodec{box: box}, nil
}

func (c stateCodec) encode(st ceremonyState) (string, error) {
	js, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("passkey: encode state: %w", err)
	}
	if c.box == nil {
		return plainPrefix + base64.RawURLEncoding.EncodeToString(js), nil
	}
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(c.box.Seal(js, stateAAD)), nil
}

func (c stateCodec) decode(s string) (ceremonyState, error) {
	var st ceremonyState
	if len(s) > maxStateLen {
		return st, fmt.Errorf("%w: state too long", ErrInvalid)
	}
	// A configured key accepts only sealed states (no downgrade to plain);
	// without one, only plain states.
	prefix := plainPrefix
	if c.box != nil {
		prefix = sealedPrefix
	}
	body, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return st, fmt.Errorf("%w: state in the wrong format", ErrInvalid)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return st, invalid("state encoding", err)
	}
	if c.box != nil {
		if raw, err = c.box.Open(raw, stateAAD); err != nil {
			return st, invalid("state seal", err)
		}
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, invalid("state JSON", err)
	}
	if st.Session.Challenge == "" || st.CreatedAt.IsZero() {
		return st, fmt.Errorf("%w: state incomplete", ErrInvalid)
	}
	return st, nil
}

// beginState encodes a new ceremony state.
func (s *Service) beginState(kind, memberID string, sd *webauthn.SessionData) (string, error) {
	return s.state.encode(ceremonyState{Kind: kind, MemberID: memberID, CreatedAt: s.now(), Session: *sd})
}

// finishState decodes a state for a Finish call and spends it: it must be
// of the right kind, younger than Options.Timeout, and not given to any
// Finish call before, in this process or any other on the store: its
// challenge is claimed once in storage (storage.SingleUse) until the
// state expires. The login UI also deletes the state from the session.
func (s *Service) finishState(ctx context.Context, raw, kind string) (ceremonyState, error) {
	st, err := s.state.decode(raw)
	if err != nil {
		return st, err
	}
	if st.Kind != kind {
		return st, fmt.Errorf("%w: %s state given to the %s ceremony", ErrStateMismatch, st.Kind, kind)
	}
	now := s.now()
	expires := st.CreatedAt.Add(s.opts.Timeout)
	if !now.Before(expires) {
		return st, fmt.Errorf("%w: began %s, expired %s", ErrStateExpired,
			st.CreatedAt.Format(time.RFC3339), expires.Format(time.RFC3339))
	}
	err = s.store.ClaimOnce(ctx, "passkey/"+st.Session.Challenge, now, expires)
	switch {
	case errors.Is(err, storage.ErrConsumed):
		return st, ErrStateUsed
	case err != nil:
		return st, fmt.Errorf("passkey: spending the ceremony state: %w", err)
	}
	return st, nil
}
