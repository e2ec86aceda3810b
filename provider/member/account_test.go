package member

import (
	"errors"
	"reflect"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"tsubasa/storage"
)

func TestCreateMember(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	m, err := f.svc.CreateMember(ctx, NewMember{
		Number: "１２３－４５６７", Password: goodPassword, PIN: "246810",
		FamilyName: " 山田 ", GivenName: "花子", FamilyNameLatin: "yamada", GivenNameLatin: "hanako",
		Email: "Hanako@Example.JP", Phone: "090-1234-5678", Country: "jp", Locale: "en-US", Verified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.member(t, m.ID)
	if got.Number != "1234567" || got.FamilyName != "山田" || got.FamilyNameLatin != "YAMADA" ||
		got.Email != "Hanako@example.jp" || !got.EmailVerified || got.Phone != "+819012345678" || !got.PhoneVerified ||
		got.Country != "JP" || got.Locale != "en" || got.OTPChannel != storage.ChannelEmail ||
		got.Status != storage.MemberActive || got.MustChangePassword || got.PasswordChangedAt.IsZero() {
		t.Errorf("stored member: %+v", got)
	}
	if len(got.ID) != 26 || len(got.WebAuthnHandle) != 64 {
		t.Errorf("id %q, handle %d bytes", got.ID, len(got.WebAuthnHandle))
	}
	if got.PasswordHash == "" || got.PINHash == "" || got.PasswordHash == goodPassword {
		t.Errorf("hashes: %q %q", got.PasswordHash, got.PINHash)
	}
	if !hasEvent(f.events(t, m.ID), EventMemberCreated, "") {
		t.Error("no member.created event")
	}

	_, err = f.svc.CreateMember(ctx, NewMember{Number: "1234567", FamilyName: "別人"})
	var fe *FieldErrors
	if !errors.As(err, &fe) || fe.Fields["number"] != KeyNumberTaken || !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("taken number: %v", err)
	}
	// A member with only a phone gets one-time passwords by SMS.
	sms, err := f.svc.CreateMember(ctx, NewMember{Number: "7654321", FamilyNameLatin: "Ito", Phone: "09012345678"})
	if err != nil || sms.OTPChannel != storage.ChannelSMS || sms.PhoneVerified {
		t.Errorf("sms member: %+v, %v", sms, err)
	}
}

func TestCreateMemberFieldErrors(t *testing.T) {
	f := newFixture(t, nil)
	bc, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	for _, tc := range []struct {
		name string
		nm   NewMember
		want map[string]string
	}{
		{"everything wrong", NewMember{
			Number: "12", Password: "short", PIN: "12345", Email: "a..b@example.jp", Phone: "123",
			Country: "XX", Locale: "fr", FamilyNameLatin: "山田", GivenName: "a\x00b",
		}, map[string]string{
			"number": "member.error.number_format", "password": "member.error.password_policy",
			"pin": "member.error.pin_format", "email": "member.error.email_consecutive_dots",
			"phone": "member.error.phone_format", "country": "member.error.country", "locale": "member.error.locale",
			"family_name_latin": "member.error.name_latin", "given_name": "member.error.name_format",
		}},
		{"no name", NewMember{Number: "1234567"}, map[string]string{"family_name": "member.error.name_required"}},
		{"password and hash", NewMember{Number: "1234567", FamilyName: "山田", Password: goodPassword, PasswordHash: string(bc)},
			map[string]string{"password": "member.error.password_and_hash"}},
		{"bad hash", NewMember{Number: "1234567", FamilyName: "山田", PasswordHash: "$md5$abc"},
			map[string]string{"password_hash": "member.error.hash_format"}},
		{"password holds number", NewMember{Number: "1234567", FamilyName: "山田", Password: "Pw-1234567"},
			map[string]string{"password": "member.error.password_policy"}},
		{"email leading dot", NewMember{Number: "1234567", FamilyName: "山田", Email: ".a@example.jp"},
			map[string]string{"email": "member.error.email_leading_dot"}},
		{"email dot before at", NewMember{Number: "1234567", FamilyName: "山田", Email: "a.@example.jp"},
			map[string]string{"email": "member.error.email_dot_before_at"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateMember(t.Context(), tc.nm)
			var fe *FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FieldErrors", err)
			}
			if !reflect.DeepEqual(fe.Fields, tc.want) {
				t.Errorf("fields = %v\nwant     %v", fe.Fields, tc.want)
			}
		})
	}
	_, err := f.svc.CreateMember(t.Context(), NewMember{Number: "1234567", FamilyName: "山田", Password: "Pw-1234567"})
	var fe *FieldErrors
	if errors.As(err, &fe); len(fe.Violations) != 1 || fe.Violations[0].Rule != RuleMemberNumber {
		t.Errorf("violations = %+v", fe.Violations)
	}
}

func TestCreateMemberImportedHash(t *testing.T) {
	f := newFixture(t, nil)
	bc, _ := bcrypt.GenerateFromPassword([]byte("Legacy-Pass-9"), bcrypt.MinCost)
	m, err := f.svc.CreateMember(t.Context(), NewMember{Number: "1234567", FamilyNameLatin: "Ito", PasswordHash: string(bc)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(t.Context(), "1234567", "Legacy-Pass-9"); err != nil {
		t.Fatal(err)
	}
	if got := f.member(t, m.ID).PasswordHash; got == string(bc) || got[:9] != "$argon2id" {
		t.Errorf("bcrypt hash not replaced at login: %s", got)
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	ctx := t.Context()
	var pe *PolicyError
	for _, tc := range []struct {
		name, current, next string
		check               func(error) bool
	}{
		{"wrong current", "nope-Nope-1", "Other-Pass-55", func(err error) bool { return errors.Is(err, ErrInvalidCredentials) }},
		{"same", goodPassword, goodPassword, func(err error) bool { return errors.Is(err, ErrSamePassword) }},
		{"policy", goodPassword, "hanako", func(err error) bool {
			return errors.As(err, &pe) && errors.Is(err, ErrPasswordPolicy) && len(pe.Violations) > 0
		}},
		{"ok", goodPassword, "Other-Pass-55", func(err error) bool { return err == nil }},
	} {
		if _, err := f.svc.ChangePassword(ctx, m.ID, tc.current, tc.next, Change{}); !tc.check(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := f.login(ctx, "1234567", "Other-Pass-55"); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	if _, err := f.login(ctx, "1234567", goodPassword); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("old password still works: %v", err)
	}
	if !hasEvent(f.events(t, m.ID), EventPasswordChanged, "") {
		t.Error("no password.changed event")
	}
}

var operator = Change{Kind: ChangeOperator, By: ByOperator}

func TestSetPassword(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	ctx := t.Context()
	if _, err := f.svc.SetPassword(ctx, m.ID, goodPassword, operator); !errors.Is(err, ErrSamePassword) {
		t.Errorf("same: %v", err)
	}
	if _, err := f.svc.SetPassword(ctx, m.ID, "password1", operator); !errors.Is(err, ErrPasswordPolicy) {
		t.Errorf("common: %v", err)
	}
	if _, err := f.svc.SetPassword(ctx, "no-such-id", "Other-Pass-55", operator); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if err := f.store.UpdateMember(ctx, m.ID, func(o storage.Member) (storage.Member, error) {
		o.MustChangePassword = true
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	if res, _ := f.login(ctx, "1234567", goodPassword); !res.MustSetPassword {
		t.Error("MustChangePassword not reported as MustSetPassword")
	}
	f.clock.Advance(1)
	if _, err := f.svc.SetPassword(ctx, m.ID, "Other-Pass-55", operator); err != nil {
		t.Fatal(err)
	}
	got := f.member(t, m.ID)
	if got.MustChangePassword || !got.PasswordChangedAt.Equal(f.clock.Now()) {
		t.Errorf("after SetPassword: must %v, changed %v", got.MustChangePassword, got.PasswordChangedAt)
	}
}

func TestCatalogKey(t *testing.T) {
	for err, want := range map[error]string{
		ErrInvalidCredentials:          "login.error.invalid_credentials",
		&ThrottledError{RetryAfter: 1}: "login.error.throttled",
		&PolicyError{}:                 "member.error.password_policy",
		errors.New("other"):            "",
		nil:                            "",
	} {
		if got := CatalogKey(err); got != want {
			t.Errorf("CatalogKey(%v) = %q, want %q", err, got, want)
		}
	}
}

// TestChangePasswordThrottled: guessing the current password through the
// change form counts against the member's lockout like a login does.
func TestChangePasswordThrottled(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	ctx := t.Context()
	var throttled *ThrottledError
	for i := range 6 {
		_, err := f.svc.ChangePassword(ctx, m.ID, "Guess-Number-"+string(rune('a'+i)), "Other-Pass-55", Change{})
		if i < 5 && !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v, want ErrInvalidCredentials", i+1, err)
		}
		if i == 5 && !errors.As(err, &throttled) {
			t.Fatalf("guess 6: %v, want *ThrottledError", err)
		}
	}
	// While locked, even the right password is refused, here and at login.
	if _, err := f.svc.ChangePassword(ctx, m.ID, goodPassword, "Other-Pass-55", Change{}); !errors.As(err, &throttled) {
		t.Errorf("right password while locked: %v", err)
	}
	if _, err := f.login(ctx, "1234567", goodPassword); !errors.As(err, &throttled) {
		t.Errorf("login while locked: %v", err)
	}
}
