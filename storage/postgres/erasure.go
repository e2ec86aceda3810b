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
//
// ->> cannot turn a string holding \u0000 into text, and anyone can put
// a NUL in an authorization request (its state or nonce) or a member in
// a name that a mail carries: a statement that parsed such a row would
// fail, and with it every member's erasure while the row lived. So SQL
// reads only rows without that escape (noNUL), and erasedInGo decodes the
// others as the store does (eraseNULRows).
var eraseSQL = []string{
	`DELETE FROM passkeys WHERE member_id = $1`,
	`DELETE FROM events WHERE member_id = $1`,
	`DELETE FROM devices WHERE member_id = $1`,
	`DELETE FROM consents WHERE member_id = $1`,
	`DELETE FROM otps WHERE member_id = $1`,
	`DELETE FROM login_flights WHERE member_id = $1`,
	`DELETE FROM auth_codes WHERE auth_request_id IN (SELECT id FROM auth_requests WHERE ` + noNUL(`data->>'MemberID' = $1`) + `)`,
	`DELETE FROM auth_requests WHERE ` + noNUL(`data->>'MemberID' = $1`),
	`DELETE FROM device_grants WHERE ` + noNUL(`data->>'MemberID' = $1`),
	`DELETE FROM support_sessions WHERE ` + noNUL(`data->>'MemberID' = $1`),
	`DELETE FROM throttles WHERE $1 = ANY(string_to_array(key, '/')) OR ($2 <> '' AND $2 = ANY(string_to_array(key, '/')))`,
	`DELETE FROM outbox WHERE ` + noNUL(`data->>'Channel' <> '`+storage.ChannelBackchannelLogout+`' AND (
		($3 <> '' AND lower(data->>'To') = lower($3)) OR ($4 <> '' AND data->>'To' = $4)
		OR strpos(concat(data->>'Subject', data->>'Text', data->>'HTML'), $1) > 0
		OR ($2 <> '' AND strpos(concat(data->>'Subject', data->>'Text', data->>'HTML'), $2) > 0))`),
}

// hasNUL is true of a row whose JSON text holds the escape \u0000 (or
// an escaped backslash before u0000, which Go then reads: either way
// never parsed in SQL).
const hasNUL = `strpos(data::text, chr(92) || 'u0000') > 0`

// noNUL is cond for rows without a NUL escape, false for the others: a
// CASE, whose branches PostgreSQL never evaluates out of turn (it may
// reorder the terms of an AND).
func noNUL(cond string) string {
	return `CASE WHEN ` + hasNUL + ` THEN false ELSE (` + cond + `) END`
}

// eraseNULRows deletes the member's rows that eraseSQL left to Go: each
// table's rows with a NUL escape, decoded as the store decodes them; the
// codes of the requests it deletes go with them. It returns how many
// rows it deleted.
func eraseNULRows(ctx context.Context, tx pgx.Tx, m storage.Member) (int, error) {
	email := strings.TrimSpace(m.Email)
	mentions := func(o *storage.OutboxMessage) bool {
		if o.Channel == storage.ChannelBackchannelLogout {
			return false
		}
		body := o.Subject + o.Text + o.HTML
		return email != "" && strings.EqualFold(o.To, email) || m.Phone != "" && o.To == m.Phone ||
			strings.Contains(body, m.ID) || m.Number != "" && strings.Contains(body, m.Number)
	}
	var n int
	for _, t := range []struct {
		table string
		of    func([]byte) (bool, error)
	}{
		{"auth_requests", decodedIs(func(r *storage.AuthRequest) bool { return r.MemberID == m.ID })},
		{"device_grants", decodedIs(func(g *storage.DeviceGrant) bool { return g.MemberID == m.ID })},
		{"support_sessions", decodedIs(func(s *storage.SupportSession) bool { return s.MemberID == m.ID })},
		{"outbox", decodedIs(mentions)},
	} {
		rows, err := tx.Query(ctx, `SELECT id, data FROM `+t.table+` WHERE `+hasNUL)
		if err != nil {
			return n, err
		}
		var (
			ids  []string
			id   string
			data []byte
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
			of, err := t.of(data)
			if of {
				ids = append(ids, id)
			}
			return wrap(t.table+" "+strconv.Quote(id), err)
		})
		if err != nil {
			return n, err
		}
		if len(ids) == 0 {
			continue
		}
		if t.table == "auth_requests" {
			tag, err := tx.Exec(ctx, `DELETE FROM auth_codes WHERE auth_request_id = ANY($1)`, ids)
			if err != nil {
				return n, err
			}
			n += int(tag.RowsAffected())
		}
		tag, err := tx.Exec(ctx, `DELETE FROM `+t.table+` WHERE id = ANY($1)`, ids)
		if err != nil {
			return n, err
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}

// decodedIs decodes a record as the store does and reports whether is
// holds for it.
func decodedIs[T any](is func(*T) bool) func([]byte) (bool, error) {
	return func(data []byte) (bool, error) {
		var v T
		if err := decode(data, &v); err != nil {
			return false, err
		}
		return is(&v), nil
	}
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
	defer s.memberSessionsEnded(memberID, "")
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
		n, err := eraseNULRows(ctx, tx, m)
		if err != nil {
			return err
		}
		out.Records += n
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
