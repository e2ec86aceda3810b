package passkey

import (
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"tsubasa/storage"
)

// TestLoginIgnoresPasswordLockout: the password lockout (FailedLogins,
// LockedUntil) slows down guessing, and a passkey cannot be guessed, so a
// member whose password is under attack still logs in with a passkey. An
// operator's lock (status locked) does stop it.
func TestLoginIgnoresPasswordLockout(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	lock := func(status storage.MemberStatus) {
		t.Helper()
		err := f.store.UpdateMember(t.Context(), f.alice.ID, func(m storage.Member) (storage.Member, error) {
			m.Status, m.FailedLogins, m.LastFailedLogin, m.LockedUntil = status, 12, f.clock.Now(), f.clock.Now().Add(time.Hour)
			return m, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	lock(storage.MemberActive)
	if m, _, _, err := f.login(t, d); err != nil || m.ID != f.alice.ID {
		t.Errorf("passkey login of a member locked out of password login: %v", err)
	}
	lock(storage.MemberLocked)
	if _, _, _, err := f.login(t, d); err == nil {
		t.Error("passkey login of a member an operator locked succeeded")
	}
}
