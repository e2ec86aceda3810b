package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"sync/atomic"
	"time"
)

// Server nonces (RFC 9449 §8 and §9). With Options.DPoPNonceTTL set, every
// proof must carry a nonce this server issued, at most that long ago; a
// proof without one, or with a stale one, is answered use_dpop_nonce with
// a fresh nonce in the DPoP-Nonce header, and every answer to a request
// with a proof carries the current nonce. A nonce bounds how far ahead a
// stolen device could have signed proofs (iat is the client's word; the
// nonce is the server's).
//
// A nonce is its issue time (Unix seconds, 8 bytes) and an HMAC-SHA-256 of
// it (16 bytes), in base64url: nothing is stored, and every replica that
// shares the master secret accepts every replica's nonces. The time is no
// secret. When the replay store lives in this process (dpopreplay.go), the
// MAC key also holds a random value of this process, so that a nonce
// proves a proof was made after this process started.

const nonceMACLen = 16

// dpopNonces issues and checks nonces under one key.
type dpopNonces struct {
	key []byte
	ttl time.Duration
	now func() time.Time
	// cur is the nonce of the current second, so that a busy endpoint
	// computes one MAC a second rather than one an answer.
	cur atomic.Pointer[issuedNonce]
}

type issuedNonce struct {
	sec   int64
	value string
}

// newDPoPNonces derives the nonce key from the provider's HMAC key and,
// when the nonces must be this process's own, a random value.
func newDPoPNonces(hmacKey []byte, processBound bool, ttl time.Duration, now func() time.Time) *dpopNonces {
	m := hmac.New(sha256.New, hmacKey)
	m.Write([]byte("dpop-nonce\x00"))
	if processBound {
		m.Write([]byte(newID(32)))
	}
	return &dpopNonces{key: m.Sum(nil), ttl: ttl, now: now}
}

// required reports whether proofs must carry a nonce.
func (n *dpopNonces) required() bool { return n != nil && n.ttl > 0 }

// issue returns the nonce of now.
func (n *dpopNonces) issue() string {
	sec := n.now().Unix()
	if c := n.cur.Load(); c != nil && c.sec == sec {
		return c.value
	}
	v := n.make(sec)
	n.cur.Store(&issuedNonce{sec: sec, value: v})
	return v
}

func (n *dpopNonces) make(sec int64) string {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+nonceMACLen), uint64(sec))
	return base64.RawURLEncoding.EncodeToString(append(b, n.mac(b[:8])...))
}

func (n *dpopNonces) mac(stamp []byte) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write(stamp)
	return m.Sum(nil)[:nonceMACLen]
}

// valid reports whether nonce is one of this key's, issued at most ttl
// ago (and not ahead of the clock, beyond a second's rounding).
func (n *dpopNonces) valid(nonce string) bool {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 8+nonceMACLen {
		return false
	}
	if !hmac.Equal(b[8:], n.mac(b[:8])) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	now := n.now()
	return !issued.After(now.Add(time.Second)) && now.Sub(issued) <= n.ttl
}
