package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

// member returns a complete member; n makes id, number and handle unique.
func member(n int) storage.Member {
	return storage.Member{
		ID:                 fmt.Sprintf("mem-%03d", n),
		Number:             fmt.Sprintf("%07d", 1000000+n),
		FamilyName:         "山田",
		GivenName:          "花子",
		FamilyNameLatin:    "YAMADA",
		GivenNameLatin:     "HANAKO",
		Email:              fmt.Sprintf("hanako%d@example.jp", n),
		EmailVerified:      true,
		Phone:              "+819012345678",
		Country:            "JP",
		Locale:             "ja",
		OTPChannel:         storage.ChannelEmail,
		Status:             storage.MemberActive,
		PasswordHash:       "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		PINHash:            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$cGlu",
		MustChangePassword: false,
		PasswordChangedAt:  at(-24 * time.Hour),
		SecurityStamp:      "stamp-1",
		SecondFactorDue:    true,
		WebAuthnHandle:     bytes.Repeat([]byte{byte(n)}, 64),
		LastFailedLogin:    at(-time.Hour),
		CreatedAt:          at(-48 * time.Hour),
		UpdatedAt:          at(-time.Hour),
	}
}

var memberTests = []test{
	{"CreateMember/stored member reads back equal by id, number and WebAuthn handle", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
		equal(t, must(s.MemberByNumber(ctx, m.Number))(t), m)
		equal(t, must(s.MemberByWebAuthnHandle(ctx, m.WebAuthnHandle))(t), m)
	}},
	{"CreateMember/duplicate id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateMember(ctx, member(1)))
		dup := member(2)
		dup.ID = member(1).ID
		isErr(t, s.CreateMember(ctx, dup), storage.ErrAlreadyExists)
		_, err := s.MemberByNumber(ctx, dup.Number)
		isErr(t, err, storage.ErrNotFound)
	}},
	{"CreateMember/taken number returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateMember(ctx, member(1)))
		dup := member(2)
		dup.Number = member(1).Number
		isErr(t, s.CreateMember(ctx, dup), storage.ErrAlreadyExists)
		_, err := s.MemberByID(ctx, dup.ID)
		isErr(t, err, storage.ErrNotFound)
	}},
	{"CreateMember/taken WebAuthn handle returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateMember(ctx, member(1)))
		dup := member(2)
		dup.WebAuthnHandle = member(1).WebAuthnHandle
		isErr(t, s.CreateMember(ctx, dup), storage.ErrAlreadyExists)
		_, err := s.MemberByID(ctx, dup.ID)
		isErr(t, err, storage.ErrNotFound)
	}},
	{"CreateMember/members without a WebAuthn handle do not collide", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for i := range 3 {
			m := member(i)
			m.WebAuthnHandle = nil
			ok(t, s.CreateMember(ctx, m))
		}
		_, err := s.MemberByWebAuthnHandle(ctx, nil)
		isErr(t, err, storage.ErrNotFound)
	}},
	{"MemberByID/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.MemberByID(t.Context(), "nobody")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"MemberByNumber/unknown number returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateMember(t.Context(), member(1)))
		_, err := s.MemberByNumber(t.Context(), "9999999")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"MemberByWebAuthnHandle/unknown handle returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateMember(t.Context(), member(1)))
		_, err := s.MemberByWebAuthnHandle(t.Context(), []byte("unknown"))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"UpdateMember/changes are stored", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		ok(t, s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
			m.Status = storage.MemberLocked
			m.FailedLogins = 5
			m.LockedUntil = at(time.Hour)
			return m, nil
		}))
		m.Status, m.FailedLogins, m.LockedUntil = storage.MemberLocked, 5, at(time.Hour)
		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
	}},
	{"UpdateMember/changed number moves the number index", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		ok(t, s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
			m.Number = "123456789"
			return m, nil
		}))
		_, err := s.MemberByNumber(ctx, m.Number)
		isErr(t, err, storage.ErrNotFound)
		equal(t, must(s.MemberByNumber(ctx, "123456789"))(t).ID, m.ID)
		// The old number is free for another member.
		other := member(2)
		other.Number = m.Number
		ok(t, s.CreateMember(ctx, other))
		equal(t, must(s.MemberByNumber(ctx, m.Number))(t).ID, other.ID)
	}},
	{"UpdateMember/changed WebAuthn handle moves the handle index", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		m.WebAuthnHandle = nil
		ok(t, s.CreateMember(ctx, m))
		handle := bytes.Repeat([]byte{0xab}, 64)
		ok(t, s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
			m.WebAuthnHandle = handle
			return m, nil
		}))
		equal(t, must(s.MemberByWebAuthnHandle(ctx, handle))(t).ID, m.ID)
		ok(t, s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
			m.WebAuthnHandle = bytes.Repeat([]byte{0xcd}, 64)
			return m, nil
		}))
		_, err := s.MemberByWebAuthnHandle(ctx, handle)
		isErr(t, err, storage.ErrNotFound)
	}},
	{"UpdateMember/number of another member returns ErrAlreadyExists and changes nothing", func(t *testing.T, s storage.Store) {
		ctx, m, other := t.Context(), member(1), member(2)
		ok(t, s.CreateMember(ctx, m))
		ok(t, s.CreateMember(ctx, other))
		err := s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
			m.Number = other.Number
			m.GivenName = "changed"
			return m, nil
		})
		isErr(t, err, storage.ErrAlreadyExists)
		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
		equal(t, must(s.MemberByNumber(ctx, other.Number))(t), other)
	}},
	{"UpdateMember/error from fn aborts and leaves the record unchanged", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		err := s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
			m.Number = "555555555"
			m.WebAuthnHandle[0] ^= 0xff // in place: must not leak into the store
			return m, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
		_, err = s.MemberByNumber(ctx, "555555555")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"UpdateMember/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.UpdateMember(t.Context(), "nobody", func(m storage.Member) (storage.Member, error) { return m, nil })
		isErr(t, err, storage.ErrNotFound)
	}},
	{"UpdateMember/100 concurrent increments all apply", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		errs := race(100, func(int) error {
			return s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
				m.FailedLogins++
				return m, nil
			})
		})
		ok(t, errors.Join(errs...))
		equal(t, must(s.MemberByID(ctx, m.ID))(t).FailedLogins, 100)
	}},
	{"UpdateMember/concurrent failing updates do not undo the others", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		errs := race(40, func(i int) error {
			return s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
				m.FailedLogins++
				if i%2 == 1 {
					return m, errBoom
				}
				return m, nil
			})
		})
		for i, err := range errs {
			if i%2 == 1 {
				isErr(t, err, errBoom)
			} else {
				ok(t, err)
			}
		}
		equal(t, must(s.MemberByID(ctx, m.ID))(t).FailedLogins, 20)
	}},
	{"CreateMembers/stores the others and reports each duplicate, within the batch too", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateMember(ctx, member(0)))
		takenID, takenNumber, sameNumber, sameHandle := member(10), member(11), member(12), member(13)
		takenID.ID = member(0).ID
		takenNumber.Number = member(0).Number
		sameNumber.Number = member(1).Number                 // as member(1) earlier in the batch
		sameHandle.WebAuthnHandle = member(2).WebAuthnHandle // as member(2)
		batch := []storage.Member{member(1), takenID, member(2), takenNumber, sameNumber, member(3), sameHandle, member(1)}
		errs, err := s.CreateMembers(ctx, batch)
		ok(t, err)
		if len(errs) != len(batch) {
			t.Fatalf("got %d errors for %d members", len(errs), len(batch))
		}
		for i, want := range []bool{true, false, true, false, false, true, false, false} {
			if want {
				ok(t, errs[i])
				equal(t, must(s.MemberByID(ctx, batch[i].ID))(t), batch[i])
			} else {
				isErr(t, errs[i], storage.ErrAlreadyExists)
			}
		}
		for _, m := range []storage.Member{sameNumber, sameHandle} {
			_, err := s.MemberByID(ctx, m.ID)
			isErr(t, err, storage.ErrNotFound)
		}
		equal(t, must(s.MemberByID(ctx, member(0).ID))(t), member(0))
		equal(t, must(s.CountMembers(ctx))(t), 4)
	}},
	{"CreateMembers/members without a WebAuthn handle do not collide, and a handle given later stays unique", func(t *testing.T, s storage.Store) {
		// Imports leave the handle to the member's first passkey.
		ctx := t.Context()
		batch := []storage.Member{member(1), member(2), member(3)}
		for i := range batch {
			batch[i].WebAuthnHandle = nil
		}
		errs, err := s.CreateMembers(ctx, batch)
		ok(t, err)
		for _, err := range errs {
			ok(t, err)
		}
		handle := member(1).WebAuthnHandle
		give := func(id string) error {
			return s.UpdateMember(ctx, id, func(m storage.Member) (storage.Member, error) {
				m.WebAuthnHandle = handle
				return m, nil
			})
		}
		ok(t, give(batch[0].ID))
		equal(t, must(s.MemberByWebAuthnHandle(ctx, handle))(t).ID, batch[0].ID)
		isErr(t, give(batch[1].ID), storage.ErrAlreadyExists)
		equal(t, len(must(s.MemberByID(ctx, batch[1].ID))(t).WebAuthnHandle), 0)
	}},
	{"CreateMembers/empty batch stores nothing", func(t *testing.T, s storage.Store) {
		errs, err := s.CreateMembers(t.Context(), nil)
		ok(t, err)
		equal(t, len(errs), 0)
		equal(t, must(s.CountMembers(t.Context()))(t), 0)
	}},
	{"CountMembers/counts stored members", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		equal(t, must(s.CountMembers(ctx))(t), 0)
		for i := range 7 {
			ok(t, s.CreateMember(ctx, member(i)))
		}
		equal(t, must(s.CountMembers(ctx))(t), 7)
	}},
}
