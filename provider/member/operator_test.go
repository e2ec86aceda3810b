package member

import (
	"errors"
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
)

func ptrTo(s string) *string { return &s }

// TestUpdateProfileNamesOnly: names, country and locale change in place;
// no session ends (nothing that authenticates changed) and profile.changed
// is recorded.
func TestUpdateProfileNamesOnly(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	f.grants(t, m.ID, "other")
	got, ended, err := f.svc.UpdateProfile(t.Context(), m.ID, ProfileUpdate{
		GivenName: ptrTo("  花 子 "), FamilyNameLatin: ptrTo("suzuki"), Country: ptrTo("us"), Locale: ptrTo("en-US"),
	}, Change{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GivenName != "花 子" || got.FamilyNameLatin != "SUZUKI" || got.Country != "US" || got.Locale != "en" ||
		got.FamilyName != "山田" || got.Email != "hanako@example.jp" {
		t.Errorf("after update: %+v", got)
	}
	if len(ended.Sessions) != 0 || f.sessionsOf(t, m.ID) != 2 {
		t.Errorf("a profile change ended sessions: %+v", ended)
	}
	if !slices.ContainsFunc(f.events(t, m.ID), func(e storage.Event) bool { return e.Type == EventProfileChanged }) {
		t.Errorf("no %s event", EventProfileChanged)
	}
}

// TestUpdateProfileContactsIsACredentialChange: a new email or phone goes
// through CredentialChanged: every session ends, every token is revoked,
// the stamp changes; the operator's contacts count as verified.
func TestUpdateProfileContactsIsACredentialChange(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	f.grants(t, m.ID, "other")
	got, ended, err := f.svc.UpdateProfile(t.Context(), m.ID, ProfileUpdate{Phone: ptrTo("090-1111-2222")}, Change{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Phone != "+819011112222" || !got.PhoneVerified || got.SecurityStamp == m.SecurityStamp {
		t.Errorf("after update: phone %q verified %v, stamp changed %v", got.Phone, got.PhoneVerified, got.SecurityStamp != m.SecurityStamp)
	}
	if len(ended.Sessions) == 0 || f.sessionsOf(t, m.ID) != 0 || f.tokensOf(t, m.ID) != 0 || f.tokensOf(t, "other") != 1 {
		t.Errorf("sessions %d, tokens %d left; ended %+v", f.sessionsOf(t, m.ID), f.tokensOf(t, m.ID), ended)
	}
}

// TestUpdateProfileRefusals: every bad field is named at once and nothing
// changes; a failing Check refuses the change with ErrPrecondition, and
// nothing changes either.
func TestUpdateProfileRefusals(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	_, _, err := f.svc.UpdateProfile(t.Context(), m.ID, ProfileUpdate{
		Email: ptrTo("hanako..x@example.jp"), Country: ptrTo("XX"), FamilyName: ptrTo(""), FamilyNameLatin: ptrTo(""),
	}, Change{})
	var fe *FieldErrors
	if !errors.As(err, &fe) || fe.Fields["email"] == "" || fe.Fields["country"] == "" || fe.Fields["family_name"] == "" {
		t.Fatalf("UpdateProfile = %v, want field errors for email, country and family_name", err)
	}
	stale := errors.New("stale version")
	for _, u := range []ProfileUpdate{{GivenName: ptrTo("次郎")}, {Email: ptrTo("jiro@example.jp")}} {
		_, _, err = f.svc.UpdateProfile(t.Context(), m.ID, u, Change{Check: func(storage.Member) error { return stale }})
		if !errors.Is(err, ErrPrecondition) || !errors.Is(err, stale) {
			t.Errorf("UpdateProfile with a failing check = %v", err)
		}
	}
	if got := f.member(t, m.ID); got.GivenName != m.GivenName || got.Email != m.Email || got.SecurityStamp != m.SecurityStamp {
		t.Errorf("a refused update changed the member: %+v", got)
	}
}

// TestRemoveContacts: a lost phone is removed as a destination; codes go
// to the email that is left, and every session ends.
func TestRemoveContacts(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	if _, _, err := f.svc.UpdateProfile(t.Context(), m.ID, ProfileUpdate{Phone: ptrTo("090-1111-2222")}, Change{}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.UpdateMember(t.Context(), m.ID, func(m storage.Member) (storage.Member, error) {
		m.OTPChannel = storage.ChannelSMS
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	f.grants(t, m.ID, "other")
	got, _, err := f.svc.RemoveContacts(t.Context(), m.ID, false, true, Change{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Phone != "" || got.PhoneVerified || got.OTPChannel != storage.ChannelEmail || got.Email == "" {
		t.Errorf("after removing the phone: %+v", got)
	}
	if f.sessionsOf(t, m.ID) != 0 {
		t.Error("sessions survived removing a second factor")
	}
	if _, _, err := f.svc.RemoveContacts(t.Context(), m.ID, false, false, Change{}); err == nil {
		t.Error("removing nothing succeeded")
	}
}

// TestUnlock: an operator's unlock clears the web, telephone and known
// devices' lockouts; sessions stay (nothing that authenticates changed).
func TestUnlock(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	f.grants(t, m.ID, "other")
	until := f.clock.Now().Add(time.Hour)
	if err := f.store.UpdateMember(t.Context(), m.ID, func(m storage.Member) (storage.Member, error) {
		m.FailedLogins, m.LockedUntil, m.PhoneFailures, m.PhoneLockedUntil, m.Status = 9, until, 5, until, storage.MemberLocked
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutDevice(t.Context(), storage.Device{ID: "d1", MemberID: m.ID, FailedLogins: 3, LockedUntil: until}); err != nil {
		t.Fatal(err)
	}
	if !Locked(f.member(t, m.ID), f.clock.Now()) {
		t.Fatal("the member does not read as locked")
	}
	got, err := f.svc.Unlock(t.Context(), m.ID, Change{})
	if err != nil {
		t.Fatal(err)
	}
	if Locked(got, f.clock.Now()) || got.FailedLogins != 0 || got.PhoneFailures != 0 || got.Status != storage.MemberActive {
		t.Errorf("after unlock: %+v", got)
	}
	if d := f.device(t, m.ID, "d1"); d.FailedLogins != 0 || !d.LockedUntil.IsZero() {
		t.Errorf("device after unlock: %+v", d)
	}
	if f.sessionsOf(t, m.ID) != 2 {
		t.Error("unlock ended sessions")
	}
	if _, err := f.login(t.Context(), "1234567", goodPassword); err != nil {
		t.Errorf("login after unlock: %v", err)
	}
}

// TestTemporaryPassword: a temporary password logs in but must be changed
// at once; setting it ends every session.
func TestTemporaryPassword(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	f.grants(t, m.ID, "other")
	if _, err := f.svc.SetPassword(t.Context(), m.ID, "Temporary-Kite-81", Change{Kind: ChangeTemporary, By: ByOperator}); err != nil {
		t.Fatal(err)
	}
	res, err := f.login(t.Context(), "1234567", "Temporary-Kite-81")
	if err != nil || !res.MustSetPassword {
		t.Errorf("login with the temporary password: %+v, %v; want MustSetPassword", res, err)
	}
	if f.sessionsOf(t, m.ID) != 0 {
		t.Error("sessions survived the temporary password")
	}
}
