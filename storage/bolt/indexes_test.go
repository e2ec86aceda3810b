package bolt

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// indexesInStep returns an error for every index entry of t that is
// missing, extra or points elsewhere: each index bucket must hold exactly
// key(pk, v) → pk for the records v of t.
func indexesInStep[T any](tx *bbolt.Tx, t *table[T]) []error {
	var errs []error
	for i := range t.indexes {
		ix := &t.indexes[i]
		want := map[string][]byte{}
		err := tx.Bucket(t.bucket).ForEach(func(pk, data []byte) error {
			var v T
			if err := decode(data, &v); err != nil {
				return err
			}
			if k := ix.key(pk, &v); k != nil {
				want[string(k)] = bytes.Clone(pk)
			}
			return nil
		})
		if err != nil {
			return append(errs, err)
		}
		_ = tx.Bucket(ix.bucket).ForEach(func(k, pk []byte) error {
			w, ok := want[string(k)]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s index %s: extra entry %q → %q", t.kind, ix.name, k, pk))
			case !bytes.Equal(w, pk):
				errs = append(errs, fmt.Errorf("%s index %s: entry %q → %q, want → %q", t.kind, ix.name, k, pk, w))
			}
			delete(want, string(k))
			return nil
		})
		for k, pk := range want {
			errs = append(errs, fmt.Errorf("%s index %s: missing entry %q → %q", t.kind, ix.name, k, pk))
		}
	}
	return errs
}

func checkIndexes(t *testing.T, s *Store, step string) {
	t.Helper()
	err := s.db.View(func(tx *bbolt.Tx) error {
		var errs []error
		errs = append(errs, indexesInStep(tx, members)...)
		errs = append(errs, indexesInStep(tx, tokens)...)
		errs = append(errs, indexesInStep(tx, sessions)...)
		errs = append(errs, indexesInStep(tx, otps)...)
		errs = append(errs, indexesInStep(tx, authRequests)...)
		errs = append(errs, indexesInStep(tx, authCodes)...)
		errs = append(errs, indexesInStep(tx, outbox)...)
		errs = append(errs, indexesInStep(tx, passkeys)...)
		for _, err := range errs {
			t.Errorf("after %s: %v", step, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIndexesStayInStep runs updates that change some indexed fields and
// leave others, and checks after each that every index bucket holds exactly
// the entries of the records (put skips entries whose key did not change).
func TestIndexesStayInStep(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "tsubasa.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	t0 := time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		checkIndexes(t, s, step)
	}
	tok := func(id string, kind storage.TokenKind, exp time.Duration) storage.Token {
		return storage.Token{ID: id, Kind: kind, ClientID: "c1", MemberID: "m1", SessionID: "s1", FamilyID: "f1",
			AuthRequestID: "ar1", CreatedAt: t0, ExpiresAt: t0.Add(exp)}
	}

	must("CreateMember", s.CreateMember(ctx, storage.Member{ID: "m1", Number: "1000001", WebAuthnHandle: []byte("h1"), CreatedAt: t0}))
	must("UpdateMember (no indexed field)", s.UpdateMember(ctx, "m1", func(m storage.Member) (storage.Member, error) {
		m.FailedLogins++
		return m, nil
	}))
	must("UpdateMember (number)", s.UpdateMember(ctx, "m1", func(m storage.Member) (storage.Member, error) {
		m.Number = "1000002"
		return m, nil
	}))
	must("UpdateMember (handle cleared)", s.UpdateMember(ctx, "m1", func(m storage.Member) (storage.Member, error) {
		m.WebAuthnHandle = nil
		return m, nil
	}))

	must("CreateTokens", s.CreateTokens(ctx, tok("a1", storage.AccessToken, time.Hour), tok("r1", storage.RefreshToken, 24*time.Hour)))
	_, err = s.RotateRefreshToken(ctx, "r1", t0, tok("a2", storage.AccessToken, 2*time.Hour), tok("r2", storage.RefreshToken, 25*time.Hour))
	must("RotateRefreshToken", err)
	_, err = s.RotateRefreshToken(ctx, "r1", t0, tok("r3", storage.RefreshToken, 26*time.Hour))
	if err == nil {
		t.Fatal("second rotation of r1 succeeded")
	}
	checkIndexes(t, s, "replayed RotateRefreshToken")
	must("DeleteToken", s.DeleteToken(ctx, "a1"))

	must("CreateSession", s.CreateSession(ctx, storage.Session{ID: "s1", Data: map[string]string{}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	must("UpdateSession (member)", s.UpdateSession(ctx, "s1", func(x storage.Session) (storage.Session, error) {
		x.MemberID = "m1"
		return x, nil
	}))
	must("UpdateSession (data only)", s.UpdateSession(ctx, "s1", func(x storage.Session) (storage.Session, error) {
		x.Data["step"] = "done"
		return x, nil
	}))
	must("UpdateSession (expiry)", s.UpdateSession(ctx, "s1", func(x storage.Session) (storage.Session, error) {
		x.ExpiresAt = t0.Add(3 * time.Hour)
		return x, nil
	}))

	must("CreateAuthRequest", s.CreateAuthRequest(ctx, storage.AuthRequest{ID: "ar1", ClientID: "c1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	must("UpdateAuthRequest", s.UpdateAuthRequest(ctx, "ar1", func(r storage.AuthRequest) (storage.AuthRequest, error) {
		r.MemberID, r.Done = "m1", true
		return r, nil
	}))
	must("SaveAuthCode", s.SaveAuthCode(ctx, storage.AuthCode{Hash: "c1", AuthRequestID: "ar1", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}))
	_, _, err = s.ClaimAuthCode(ctx, "c1", t0)
	must("ClaimAuthCode", err)

	otp := storage.OTP{ID: "o1", MemberID: "m1", Purpose: "login", CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	must("PutOTP", s.PutOTP(ctx, otp))
	must("UpdateOTP", s.UpdateOTP(ctx, "o1", func(o storage.OTP) (storage.OTP, error) {
		o.Attempts++
		return o, nil
	}))
	otp.ID = "o2"
	must("PutOTP (replaces)", s.PutOTP(ctx, otp))
	otp.Attempts = 2
	must("PutOTP (same id)", s.PutOTP(ctx, otp))

	must("EnqueueMessage", s.EnqueueMessage(ctx, storage.OutboxMessage{ID: "mail1", State: storage.OutboxPending, NextAttemptAt: t0, CreatedAt: t0}))
	must("UpdateOutboxMessage (retry later)", s.UpdateOutboxMessage(ctx, "mail1", func(m storage.OutboxMessage) (storage.OutboxMessage, error) {
		m.Attempts, m.NextAttemptAt = 1, t0.Add(time.Minute)
		return m, nil
	}))
	must("UpdateOutboxMessage (sent)", s.UpdateOutboxMessage(ctx, "mail1", func(m storage.OutboxMessage) (storage.OutboxMessage, error) {
		m.State, m.SentAt, m.ExpiresAt = storage.OutboxSent, t0, t0.Add(time.Hour)
		return m, nil
	}))

	must("CreatePasskey", s.CreatePasskey(ctx, storage.Passkey{ID: []byte("cred1"), MemberID: "m1", CreatedAt: t0}))
	must("UpdatePasskey (sign count)", s.UpdatePasskey(ctx, []byte("cred1"), func(p storage.Passkey) (storage.Passkey, error) {
		p.SignCount++
		return p, nil
	}))

	_, err = s.DeleteExpired(ctx, t0.Add(2*time.Hour))
	must("DeleteExpired", err)
	_, err = s.DeleteTokens(ctx, storage.TokenFilter{FamilyID: "f1"})
	must("DeleteTokens", err)
}
