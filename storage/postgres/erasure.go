package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// eraseSQL deletes, in order, every row about the member $1 (its number
// $2, email $3, phone $4) but the member's own row, the tokens and the
// sessions. Tables without a member column keep the member id in their
// JSON (data->>'MemberID'): those are short-lived (OTPs hold one too, but
// have the column), so a sequential scan of them is affordable for an
// operation this rare. Throttle keys name the member by id or number as
// a path segment ("login/number/1234567", "otp/member/<id>").
// Back-channel logout messages stay: they carry the member id alone and
// tell relying parties that the sessions ended.
var eraseSQL = []string{
	`DELETE FROM passkeys WHERE member_id = $1`,
	`DELETE FROM events WHERE member_id = $1`,
	`DELETE FROM devices WHERE member_id = $1`,
	`DELETE FROM consents WHERE member_id = $1`,
	`DELETE FROM otps WHERE member_id = $1`,
	`DELETE FROM login_flights WHERE member_id = $1`,
	`DELETE FROM auth_codes WHERE auth_request_id IN (SELECT id FROM auth_requests WHERE data->>'MemberID' = $1)`,
	`DELETE FROM auth_requests WHERE data->>'MemberID' = $1`,
	`DELETE FROM device_grants WHERE data->>'MemberID' = $1`,
	`DELETE FROM support_sessions WHERE data->>'MemberID' = $1`,
	`DELETE FROM throttles WHERE $1 = ANY(string_to_array(key, '/')) OR ($2 <> '' AND $2 = ANY(string_to_array(key, '/')))`,
	`DELETE FROM outbox WHERE data->>'Channel' <> '` + storage.ChannelBackchannelLogout + `' AND (
		($3 <> '' AND lower(data->>'To') = lower($3)) OR ($4 <> '' AND data->>'To' = $4)
		OR strpos(concat(data->>'Subject', data->>'Text', data->>'HTML'), $1) > 0
		OR ($2 <> '' AND strpos(concat(data->>'Subject', data->>'Text', data->>'HTML'), $2) > 0))`,
}

// EraseMember deletes the member and every row about them in one
// transaction (storage.Erasure), records the revocation of all the
// member's tokens and appends the tombstone. The member's row is locked
// first, so the erasure is ordered with every other change to the member
// on any replica.
func (s *Store) EraseMember(ctx context.Context, memberID string, check func(storage.Member) error, tombstone storage.Event) (storage.Erased, error) {
	if memberID == "" || !storable(memberID) {
		return storage.Erased{}, notFound("member")
	}
	var (
		out      storage.Erased
		remember func()
	)
	now := s.now().UTC()
	defer s.members.changed(memberID) // after the commit
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = storage.Erased{}
		m, err := members.lock(ctx, tx, memberID)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(m); err != nil {
				return err
			}
		}
		ss, err := deleteMemberSessions(ctx, tx, memberID)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM tokens WHERE member_id = $1", memberID)
		if err != nil {
			return err
		}
		out.Sessions, out.Tokens = len(ss), int(tag.RowsAffected())
		out.Records = out.Sessions + out.Tokens
		args := []any{memberID, m.Number, strings.TrimSpace(m.Email), m.Phone}
		for _, q := range eraseSQL {
			tag, err := tx.Exec(ctx, q, args[:paramCount(q)]...)
			if err != nil {
				return err
			}
			out.Records += int(tag.RowsAffected())
		}
		if _, err := tx.Exec(ctx, "DELETE FROM members WHERE id = $1", memberID); err != nil {
			return err
		}
		out.Records++
		if err := notify(ctx, tx, memberChanged(memberID)); err != nil {
			return err
		}
		if err := appendEvents(ctx, tx, []storage.Event{tombstone}); err != nil {
			return err
		}
		remember, err = s.putRevocation(ctx, tx, storage.TokenFilter{MemberID: memberID}, now)
		return err
	})
	if err != nil {
		return storage.Erased{}, err
	}
	remember()
	return out, nil
}

// paramCount is the highest $n in q: PostgreSQL wants exactly as many
// arguments as a statement uses.
func paramCount(q string) int {
	for n := 4; n > 1; n-- {
		if strings.Contains(q, "$"+strconv.Itoa(n)) {
			return n
		}
	}
	return 1
}
