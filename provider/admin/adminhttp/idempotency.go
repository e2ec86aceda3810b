package adminhttp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/seal"
	"tsubasa/storage"
)

// Idempotency keys (the IETF httpapi Idempotency-Key header, on creates):
// the first request with a key reserves it in storage, in one atomic step
// that exactly one of concurrent requests wins on any replica, runs, and
// stores its answer; a retry with the same key and the same request gets
// that answer again (Idempotent-Replayed: true), one with another request
// 422, and one while the first still runs 409 with Retry-After. Answers
// are kept for IdempotencyTTL, sealed (AES-256-GCM): a new client's
// secret, shown once, is in one. A request that fails on the server's side
// (5xx) frees its key, so that a retry runs again.

// reservationLease is how long a running request holds its key: past it a
// request that died no longer blocks its retries.
const reservationLease = 2 * time.Minute

// maxIdempotencyKey bounds a key's length.
const maxIdempotencyKey = 255

// sealer keys idempotency records and seals their answers.
type sealer struct {
	mac []byte
	box *seal.Box
}

func newSealer(key []byte) (sealer, error) {
	sub := func(purpose string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("tsubasa/admin/" + purpose))
		return m.Sum(nil)
	}
	box, err := seal.New(sub("idempotency-seal"))
	if err != nil {
		return sealer{}, err
	}
	return sealer{mac: sub("idempotency-key"), box: box}, nil
}

// recordKey is the storage key of clientID's key.
func (s sealer) recordKey(clientID, key string) string {
	m := hmac.New(sha256.New, s.mac)
	m.Write([]byte(clientID + "\x00" + key))
	return hex.EncodeToString(m.Sum(nil))
}

func (s sealer) seal(recordKey string, body []byte) []byte {
	return s.box.Seal(body, []byte(recordKey))
}

func (s sealer) open(recordKey string, sealed []byte) ([]byte, error) {
	return s.box.Open(sealed, []byte(recordKey))
}

// fingerprint identifies a request for its key: its route, path, query
// and body.
func (c *call) fingerprint(body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", c.r.Method, c.r.URL.Path, c.r.URL.RawQuery)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// validKey: 1 to 255 visible ASCII characters.
func validKey(k string) bool {
	if k == "" || len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idempotent runs do once for the client's key; see the file's comment.
func (c *call) idempotent(key string, body []byte, do func() answer) answer {
	if !validKey(key) {
		return operationProblem(c.r, c.id, invalid("Idempotency-Key", "Idempotency-Key must be 1 to %d visible ASCII characters", maxIdempotencyKey))
	}
	st, seal, now := c.h.o.Store, c.h.sealer, c.h.o.Now()
	rk, fp := seal.recordKey(c.caller.ClientID, key), c.fingerprint(body)
	held, err := st.ReserveIdempotencyKey(c.ctx, storage.IdempotencyRecord{Key: rk, Fingerprint: fp, CreatedAt: now,
		ExpiresAt: now.Add(reservationLease)}, now)
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		return c.replay(held, fp)
	case err != nil:
		return c.opError(fmt.Errorf("reserving the idempotency key: %w", err))
	}
	a := do()
	ctx := withoutCancel(c.ctx) // the answer is stored, or the key freed, whatever the client does
	if a.status >= 500 {
		if err := st.ReleaseIdempotencyKey(ctx, rk); err != nil {
			c.h.log.ErrorContext(ctx, "idempotency key not released", "error", err)
		}
		return a
	}
	done := storage.IdempotencyRecord{Key: rk, Fingerprint: fp, Done: true, Status: a.status,
		ContentType: a.header.Get("Content-Type"), Location: a.header.Get("Location"), ETag: a.header.Get("ETag"),
		Body: seal.seal(rk, a.body), CreatedAt: now, ExpiresAt: c.h.o.Now().Add(c.h.o.IdempotencyTTL)}
	if err := st.CompleteIdempotencyKey(ctx, done); err != nil {
		// The change is made: say so rather than let a retry make it twice.
		c.h.log.ErrorContext(ctx, "idempotent answer not stored", "op", c.rt.Op, "error", err)
	}
	return a
}

// replay answers a request whose key is held: the stored answer to the
// same request, or why not.
func (c *call) replay(held storage.IdempotencyRecord, fp string) answer {
	switch {
	case !hmac.Equal([]byte(held.Fingerprint), []byte(fp)):
		return problem(adminapi.ProblemIdempotencyKeyReused, c.r, c.id,
			"this Idempotency-Key was used with another request; use a new key for a new request")
	case !held.Done:
		return problem(adminapi.ProblemRequestInProgress, c.r, c.id,
			"a request with this Idempotency-Key is still running; retry to get its answer").withRetryAfter(1)
	}
	body, err := c.h.sealer.open(held.Key, held.Body)
	if err != nil {
		return c.opError(fmt.Errorf("opening a kept answer: %w", err))
	}
	c.replayed = true
	a := answer{status: held.Status, header: http.Header{"Content-Type": {held.ContentType},
		"Idempotent-Replayed": {strconv.FormatBool(true)}}, body: body}
	for k, v := range map[string]string{"Location": held.Location, "ETag": held.ETag} {
		if v != "" {
			a.header.Set(k, v)
		}
	}
	return a
}
