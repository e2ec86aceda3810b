package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of the Standard Webhooks convention.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix marks a secret as Standard Webhooks writes them.
const secretPrefix = "whsec_"

// SecretFor derives the secret of subscription id from key (a key the
// server derives from its master secret for webhooks alone): the same id
// and key give the same secret, on every replica, and nothing is stored.
func SecretFor(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("webhook-secret\x00"))
	m.Write([]byte(id))
	return secretPrefix + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ErrBadSecret: a secret that is not "whsec_" and base64.
var ErrBadSecret = errors.New("webhook: the secret must be whsec_ followed by base64")

func secretBytes(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(b) == 0 {
		return nil, ErrBadSecret
	}
	return b, nil
}

// Signature is the webhook-signature value of body for message id signed
// at ts: "v1," and the base64 HMAC-SHA256 of id "." unix(ts) "." body.
func Signature(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretBytes(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)), nil
}

func mac(key []byte, id string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(unix, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign sets the three headers on h for body, message id, signed at ts.
func Sign(h http.Header, secret, id string, ts time.Time, body []byte) error {
	sig, err := Signature(secret, id, ts, body)
	if err != nil {
		return err
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// Verification failures.
var (
	ErrNoSignature = errors.New("webhook: no valid v1 signature")
	ErrTimestamp   = errors.New("webhook: the timestamp is missing or too far from now")
)

// Verify is what a receiver does (and what the README's recipe says): the
// timestamp within tolerance of now, then any of the space-separated v1
// signatures equal, compared in constant time, to the one computed.
func Verify(h http.Header, secret string, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := secretBytes(secret)
	if err != nil {
		return err
	}
	unix, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	want := mac(key, h.Get(HeaderID), unix, body)
	for _, s := range strings.Fields(h.Get(HeaderSignature)) {
		v, sig, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoSignature
}
