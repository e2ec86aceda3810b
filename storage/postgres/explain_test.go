package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
	"tsubasa/storage/postgres/pgtest"
)

// load fills a database at production scale: a million members, and
// hundreds of thousands of everything else, spread over the members as
// real use would.
var load = []string{
	// Keys ascending, so that the load appends to each index instead of
	// thrashing the small test server's buffers; the plans do not care.
	// Families of two share an email; two members in three have a phone.
	`INSERT INTO members (id, number, webauthn_handle, email, phone, data)
	 SELECT 'm' || lpad(i::text, 7, '0'), lpad(i::text, 9, '0'), decode(lpad(to_hex(i), 128, '0'), 'hex'),
	        'family' || (i / 2) || '@example.jp', CASE WHEN i % 3 <> 0 THEN '+8190' || lpad(i::text, 8, '0') END,
	        json_build_object('ID', 'm' || lpad(i::text, 7, '0'), 'Number', lpad(i::text, 9, '0'), 'FamilyName', '山田')
	 FROM generate_series(1, 1000000) i`,
	`INSERT INTO tokens (id, kind, member_id, client_id, session_id, family_id, auth_request_id, consumed, expires_at, expires_ns, data)
	 SELECT 't' || i, CASE WHEN i % 2 = 0 THEN 'refresh' ELSE 'access' END, 'm' || (i % 300000), 'c' || (i % 40),
	        's' || (i / 3), 'f' || (i / 4), 'ar' || (i / 4), false, now() + (i % 1440) * interval '1 minute', 0, '{}'
	 FROM generate_series(1, 300000) i`,
	`INSERT INTO sessions (id, member_id, device_id, expires_at, expires_ns, data)
	 SELECT 's' || i, 'm' || (i % 300000), 'd' || (i % 300000), now() + (i % 720) * interval '1 minute', 0, '{}'
	 FROM generate_series(1, 300000) i`,
	`INSERT INTO events (id, member_id, at, at_ns, data)
	 SELECT 'e' || i, 'm' || (i % 300000), now() - i * interval '1 second', 0, '{}'
	 FROM generate_series(1, 300000) i`,
	`INSERT INTO devices (member_id, id, data) SELECT 'm' || (i % 300000), 'd' || i, '{}' FROM generate_series(1, 300000) i`,
	`INSERT INTO consents (member_id, client_id, data) SELECT 'm' || i, 'c' || (i % 40), '{}' FROM generate_series(1, 100000) i`,
	`INSERT INTO passkeys (id, member_id, data) SELECT decode(md5(i::text), 'hex'), 'm' || i, '{}' FROM generate_series(1, 100000) i`,
	`INSERT INTO otps (id, member_id, purpose, expires_at, expires_ns, data)
	 SELECT 'o' || i, 'm' || i, 'login', now() + (i % 10) * interval '1 minute', 0, '{}' FROM generate_series(1, 100000) i`,
	`INSERT INTO auth_requests (id, expires_at, expires_ns, data)
	 SELECT 'ar' || i, now() + (i % 30) * interval '1 minute', 0, '{}' FROM generate_series(1, 100000) i`,
	// Codes issued with their request's revocation keys (15 for a
	// request with a session) and member; the first of each code's keys
	// is a loaded revocation's.
	`INSERT INTO auth_codes (hash, auth_request_id, consumed, expires_at, expires_ns, data, revocation_keys, member_id)
	 SELECT md5(i::text), 'ar' || i, i % 2 = 0, now() + (i % 10) * interval '1 minute', 0, '{}',
	        ARRAY(SELECT decode(md5((i + k * 100000)::text), 'hex') FROM generate_series(0, 14) k), 'm' || lpad(i::text, 7, '0')
	 FROM generate_series(1, 100000) i`,
	`INSERT INTO outbox (id, state, next_at, next_ns, created_at, created_ns, expires_at, expires_ns, data)
	 SELECT 'x' || i, CASE WHEN i % 100 = 0 THEN 'pending' ELSE 'sent' END, now() - i * interval '1 second', 0,
	        now() - i * interval '1 second', 0, CASE WHEN i % 100 = 0 THEN NULL ELSE now() + i * interval '1 second' END,
	        CASE WHEN i % 100 = 0 THEN NULL ELSE 0 END, '{}'
	 FROM generate_series(1, 200000) i`,
	`INSERT INTO token_revocations (key, shape, revoked_at, revoked_ns, expires_at)
	 SELECT decode(md5(i::text), 'hex'), 8, now(), 0, now() + (i % 1440) * interval '1 minute' FROM generate_series(1, 50000) i`,
	`INSERT INTO pushed_requests (id, client_id, consumed, expires_at, expires_ns, data)
	 SELECT md5(i::text), 'c' || (i % 40), i % 2 = 0, now() + (i % 2) * interval '1 minute', 0, '{}' FROM generate_series(1, 100000) i`,
	`INSERT INTO used_jtis (key, expires_at, expires_ns)
	 SELECT md5(i::text), now() + (i % 5) * interval '1 minute', 0 FROM generate_series(1, 100000) i`,
	`INSERT INTO device_grants (id, user_code, client_id, expires_at, expires_ns, data)
	 SELECT md5(i::text), md5('u' || i::text), 'c' || (i % 40), now() + (i % 10) * interval '1 minute', 0, '{}'
	 FROM generate_series(1, 100000) i`,
	`ANALYZE`,
}

type query struct {
	name string
	sql  string
	args []any
}

// hotQueries are the statements of every lookup path, with arguments of
// the loaded data. Left out: sms_budget, at most 61 rows by design (a scan
// is the right plan), clients and signing keys (whole-table reads of a
// handful of rows), and CountMembers (a count of every member, not a
// request path).
func hotQueries(now time.Time) []query {
	tok := storage.Token{ID: "t10", FamilyID: "f2", AuthRequestID: "ar2", SessionID: "s3", MemberID: "m10", ClientID: "c10"}
	q := []query{
		{"member by id", members.sel, []any{"m0000500"}},
		{"member by id, for update", members.selForUpdate, []any{"m0000500"}},
		{"member by number", memberByNumberSQL, []any{"000000500"}},
		{"member by WebAuthn handle", memberByHandleSQL, []any{[]byte("0123456789abcdef0123456789abcdef")}},
		{"members by email", membersByEmailSQL, []any{"family250@example.jp", 51}},
		{"members by phone", membersByPhoneSQL, []any{"+819000000500", 51}},
		{"token by id", tokens.sel, []any{"t10"}},
		{"refresh token rotation", rotateSQL, []any{"t10", now, int16(0)}},
		{"token revoked (database fallback)", tokenRevokedSQL, []any{candidateKeys(&tok), now, int16(0)}},
		{"auth request by id", authRequests.sel, []any{"ar10"}},
		{"auth code by hash", authCodes.sel, []any{"c4ca4238a0b923820dcc509a6f75849b"}},
		{"auth code with its fresh facts", findCodeFreshSQL, []any{"c4ca4238a0b923820dcc509a6f75849b"}},
		{"auth code claim", claimCodeSQL, []any{"c4ca4238a0b923820dcc509a6f75849b", now, int16(0)}},
		claimFreshQuery("c4ca4238a0b923820dcc509a6f75849b", now, tok),
		{"auth request taken by its claim", takeRequestSQL, []any{"ar10"}},
		{"session by id", sessions.sel, []any{"s10"}},
		{"sessions of a member", "SELECT data FROM sessions WHERE member_id = $1", []any{"m10"}},
		{"sessions of a member's device", "SELECT data FROM sessions WHERE member_id = $1 AND device_id = $2", []any{"m10", "d10"}},
		{"sessions ended by a credential change", "DELETE FROM sessions WHERE member_id = $1 RETURNING data", []any{"m10"}},
		{"current otp", currentOTPSQL, []any{"m10", "login"}},
		{"otp by id", otps.sel, []any{"o10"}},
		{"device by id", devices.sel, []any{"m10", "d10"}},
		{"devices of a member", listDevicesSQL, []any{"m10"}},
		{"consent by id", consents.sel, []any{"m10", "c10"}},
		{"consents of a member", listConsentsSQL, []any{"m10"}},
		{"passkey by id", passkeys.sel, []any{[]byte("0123456789abcdef")}},
		{"passkeys of a member", listPasskeysSQL, []any{"m10"}},
		{"events of a member", listEventsSQL, []any{"m10", 50}},
		{"due outbox messages", dueSQL, []any{now, int16(0), 50}},
		{"outbox claim", claimSQL, []any{now, int16(0), 50}},
		{"expired revocations", deleteRevocationsSQL, []any{now}},
		{"pushed request claim", claimPushedSQL, []any{"c4ca4238a0b923820dcc509a6f75849b", "c1", now, int16(0)}},
		{"pushed request state", pushedStateSQL, []any{"c4ca4238a0b923820dcc509a6f75849b", "c1", now, int16(0)}},
		{"jti use", useJTISQL, []any{"c4ca4238a0b923820dcc509a6f75849b", now, int16(0), now, int16(0)}},
		{"jti used", jtiUsedSQL, []any{"c4ca4238a0b923820dcc509a6f75849b", now, int16(0)}},
		// Half the loaded events are past this cutoff: the chunk must
		// still come from events_by_time, not a scan of the log.
		{"janitor: events past retention", deleteEventsSQL, []any{now.Add(-42 * time.Hour), int16(0), []string{"member.erased"}, 1000}},
	}
	for _, f := range []storage.TokenFilter{
		{MemberID: "m10"}, {ClientID: "c10", MemberID: "m10"}, {SessionID: "s3"}, {FamilyID: "f2"},
		{AuthRequestID: "ar2"}, {ID: "t10"}, {MemberID: "m10", ClientID: "c10", SessionID: "s3"},
	} {
		where, args, _ := tokenWhere(f)
		q = append(q, query{"tokens where " + where, "SELECT data, consumed FROM tokens WHERE " + where, args},
			query{"delete tokens where " + where, "DELETE FROM tokens WHERE " + where, args})
	}
	q = append(q, query{"tokens ended by a credential change", "DELETE FROM tokens WHERE member_id = $1 RETURNING data, consumed", []any{"m10"}})
	for _, e := range expiring {
		q = append(q, query{"janitor: " + e.name, e.sql, []any{now, int16(0)}})
	}
	return q
}

// hotIndexes are indexes a hot query's plan must use, besides having no
// sequential scan: the code exchange's read finds the code, the newest
// of its revocations and its member each by primary key.
var hotIndexes = map[string][]string{
	"auth code with its fresh facts":        {"auth_codes_pkey", "token_revocations_pkey", "members_pkey"},
	"auth code claim with its fresh checks": {"auth_codes_pkey", "token_revocations_pkey", "members_pkey", "auth_requests_pkey"},
}

// claimFreshQuery is ClaimAuthCodeFresh's statement for code hash, whose
// token would be tok, with one token to store.
func claimFreshQuery(hash string, now time.Time, tok storage.Token) query {
	check := storage.CodeCheck{Token: tok, MemberID: tok.MemberID, MemberStamp: "stamp-1"}
	next := storage.Token{ID: "t-new", Kind: storage.RefreshToken, ClientID: tok.ClientID, MemberID: tok.MemberID,
		SessionID: tok.SessionID, AuthRequestID: tok.AuthRequestID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	args, err := tokenArgs(append([]any{hash, now, int16(0)}, checkArgs(check)...), []storage.Token{next})
	if err != nil {
		panic(err)
	}
	return query{"auth code claim with its fresh checks", claimFreshSQL(1), args}
}

// TestHotLookupsUseIndexes loads a million members (and the rest at
// scale; about half a minute of work), analyses, and checks that the plan of every lookup path, as a
// custom plan and as the generic plan a prepared statement settles on, has
// no sequential scan. It logs each plan.
func TestHotLookupsUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a million members; skipped with -short")
	}
	ctx := t.Context()
	url := migratedDatabase(t)
	conn := testConn(t, url)
	start := time.Now()
	for _, sql := range load {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("load: %v\n%s", err, sql)
		}
	}
	t.Logf("loaded and analysed in %v", time.Since(start).Round(time.Second))
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
			t.Fatal(err)
		}
		for _, q := range hotQueries(time.Now()) {
			plan := explain(t, conn, q)
			if strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s (%s): sequential scan\n%s\n%s", q.name, mode, q.sql, plan)
				continue
			}
			for _, idx := range hotIndexes[q.name] {
				if !strings.Contains(plan, " using "+idx+" ") && !strings.Contains(plan, "Bitmap Index Scan on "+idx+" ") {
					t.Errorf("%s (%s): %s not used\n%s\n%s", q.name, mode, idx, q.sql, plan)
				}
			}
			t.Logf("%s (%s):\n%s", q.name, mode, plan)
		}
	}
}

// explain returns the plan of q, bound to its arguments through a
// prepared statement (so that the plan cache mode applies).
func explain(t *testing.T, conn *pgx.Conn, q query) string {
	t.Helper()
	rows, err := conn.Query(t.Context(), "EXPLAIN "+q.sql, q.args...)
	if err != nil {
		t.Fatalf("%s: %v", q.name, err)
	}
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, "    "+line)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q.name, err)
	}
	return strings.Join(lines, "\n")
}

// The code exchange's read probes token_revocations by primary key, once
// per key of the code, whatever the table's size: on a small table (a
// thousand revocations, analysed) PostgreSQL would rather scan it whole
// for t.key = ANY(c.revocation_keys), comparing every row with every key
// (findCodeFreshSQL). The other tables hold a row each here: scanning
// them is right.
func TestCodeReadProbesRevocationsByKey(t *testing.T) {
	ctx := t.Context()
	url := migratedDatabase(t)
	conn := testConn(t, url)
	for _, sql := range []string{
		`INSERT INTO token_revocations (key, shape, revoked_at, revoked_ns, expires_at)
		 SELECT decode(md5(i::text), 'hex'), 8, now(), 0, now() + interval '1 hour' FROM generate_series(1, 1000) i`,
		`INSERT INTO members (id, number, data) VALUES ('m1', '1000001', '{"SecurityStamp": "stamp-1"}')`,
		`INSERT INTO auth_requests (id, expires_at, expires_ns, data) VALUES ('ar1', now() + interval '1 hour', 0, '{}')`,
		`INSERT INTO auth_codes (hash, auth_request_id, consumed, expires_at, expires_ns, data, revocation_keys, member_id)
		 SELECT 'code-1', 'ar1', false, now() + interval '1 minute', 0, '{}',
		        ARRAY(SELECT decode(md5((k * 100)::text), 'hex') FROM generate_series(1, 15) k), 'm1'`,
		`ANALYZE`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
			t.Fatal(err)
		}
		tok := storage.Token{ClientID: "web", MemberID: "m1", SessionID: "s1", AuthRequestID: "ar1", CreatedAt: time.Now()}
		for _, q := range []query{{"auth code with its fresh facts", findCodeFreshSQL, []any{"code-1"}}, claimFreshQuery("code-1", time.Now(), tok)} {
			plan := explain(t, conn, q)
			if strings.Contains(plan, "Seq Scan on token_revocations") || !strings.Contains(plan, "Index Scan using token_revocations_pkey") {
				t.Errorf("%s, %s: want token_revocations probed by its primary key, never scanned\n%s", q.name, mode, plan)
			}
		}
	}
}

// migratedDatabase is a new database of the throwaway cluster at the
// newest schema.
func migratedDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.NewDatabase(t, pgtest.Template(t, "tsubasa_migrated", func(url string) error {
		_, err := Migrate(context.Background(), Options{URL: url})
		return err
	}))
}
