package postgres

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
	"tsubasa/storage/postgres/pgtest"
)

// testConn opens one connection to url, closed when t ends.
func testConn(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// migrateTo applies the embedded migrations up to version and no further,
// as a Tsubasa of that version did.
func migrateTo(t *testing.T, conn *pgx.Conn, version int) {
	t.Helper()
	known, err := knownMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), migrationsSQL); err != nil {
		t.Fatal(err)
	}
	for _, m := range known[:version] {
		if _, err := conn.Exec(t.Context(), m.sql); err != nil {
			t.Fatalf("migration %d: %v", m.Version, err)
		}
		if _, err := conn.Exec(t.Context(), recordSQL, m.Version, m.Name, m.sum); err != nil {
			t.Fatal(err)
		}
	}
}

// oldMembers are members as a Tsubasa before migration 8 stored them:
// one of each kind of record the backfill must read.
var oldMembers = []storage.Member{
	{ID: "m1", Number: "1000001", Email: "a@example.jp", Phone: "+819011110001"},
	{ID: "m2", Number: "1000002", Email: "family@example.jp", Phone: "+819011110002", FamilyName: "a\x00b"}, // ->> refuses
	{ID: "m3", Number: "1000003", Email: "family@example.jp", FamilyName: "A&B"},                            // a \u0026 escape
	{ID: "m4", Number: "1000004"},                                                     // no contacts
	{ID: "m5", Number: "1000005", Email: "e\xffx@example.jp"},                         // read back with U+FFFD
	{ID: "m6", Number: "1000006", Email: "x\x00y@example.jp", Phone: "+819011110006"}, // text cannot hold it
}

func insertOld(t *testing.T, conn *pgx.Conn, ms []storage.Member) {
	t.Helper()
	for _, m := range ms {
		data, err := encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), "INSERT INTO members (id, number, data) VALUES ($1, $2, $3)", m.ID, m.Number, data); err != nil {
			t.Fatal(err)
		}
	}
}

type contactRow struct{ ID, Email, Phone string }

// contactColumns reads every member's contact columns ("-" for NULL).
func contactColumns(t *testing.T, conn *pgx.Conn) []contactRow {
	t.Helper()
	rows, err := conn.Query(t.Context(), "SELECT id, coalesce(email, '-'), coalesce(phone, '-') FROM members ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[contactRow])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wantContacts are oldMembers' columns after the backfill: what every
// write of these members writes (checked below by writing them again).
var wantContacts = []contactRow{
	{"m1", "a@example.jp", "+819011110001"},
	{"m2", "family@example.jp", "+819011110002"},
	{"m3", "family@example.jp", "-"},
	{"m4", "-", "-"},
	{"m5", "e\uFFFDx@example.jp", "-"},
	{"m6", "-", "+819011110006"},
}

// checkBackfilled checks the columns, that a write of each member leaves
// them as they are, and the lookups through the store.
func checkBackfilled(t *testing.T, url string, conn *pgx.Conn) {
	t.Helper()
	ctx := t.Context()
	if got := contactColumns(t, conn); !reflect.DeepEqual(got, wantContacts) {
		t.Fatalf("contact columns after the migration:\n%q\nwant\n%q", got, wantContacts)
	}
	s, err := Open(ctx, Options{URL: url, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, m := range oldMembers {
		if err := s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) { return m, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if got := contactColumns(t, conn); !reflect.DeepEqual(got, wantContacts) {
		t.Fatalf("contact columns after writing each member again:\n%q\nwant\n%q", got, wantContacts)
	}
	for _, tc := range []struct {
		email, phone string
		want         []string
	}{
		{email: "family@example.jp", want: []string{"m2", "m3"}},
		{email: "a@example.jp", want: []string{"m1"}},
		{email: "e\uFFFDx@example.jp", want: []string{"m5"}},
		{phone: "+819011110002", want: []string{"m2"}},
		{phone: "+819011110006", want: []string{"m6"}},
	} {
		var ms []storage.Member
		if tc.email != "" {
			ms, err = s.MembersByEmail(ctx, tc.email, 10)
		} else {
			ms, err = s.MembersByPhone(ctx, tc.phone, 10)
		}
		ids := memberIDs(ms)
		if err != nil || !sameSet(ids, tc.want) {
			t.Errorf("lookup %q%q: %v, %v; want %v", tc.email, tc.phone, ids, err, tc.want)
		}
	}
}

func memberIDs(ms []storage.Member) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		if seen[x]--; seen[x] < 0 {
			return false
		}
	}
	return true
}

// Migration 8 fills the contact columns of the members already stored,
// those whose record PostgreSQL's ->> refuses (a NUL in a name) included,
// with exactly what a write of the member writes, and the lookups find
// them.
func TestMigration8BackfillsContacts(t *testing.T) {
	url := pgtest.NewDatabase(t, "")
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	migrateTo(t, conn, 7)
	insertOld(t, conn, oldMembers)
	st, err := Migrate(t.Context(), Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	// Later migrations may be pending too: 8 must come first.
	if len(st.Pending) == 0 || st.Pending[0].Version != 8 {
		t.Fatalf("before: %s, want migration 8 pending", st)
	}
	checkBackfilled(t, url, conn)
}

// readmePreparation returns the statements of the README's preparation
// of migration 8 for a large programme, one per psql statement: the
// instructions operators follow are the ones tested.
func readmePreparation(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for block := range strings.SplitSeq(string(b), "```sql\n") {
		block, _, _ = strings.Cut(block, "```")
		if !strings.Contains(block, "CONCURRENTLY IF NOT EXISTS members_by_email") {
			continue
		}
		// A statement ends with a line that starts unindented and ends
		// with a semicolon (a DO block's inner lines are indented).
		var stmts []string
		var cur strings.Builder
		for line := range strings.Lines(block) {
			cur.WriteString(line)
			l := strings.TrimRight(line, "\n")
			if strings.HasSuffix(l, ";") && !strings.HasPrefix(l, " ") {
				stmts = append(stmts, cur.String())
				cur.Reset()
			}
		}
		return stmts
	}
	t.Fatal("the README has no preparation of migration 8")
	return nil
}

// A large programme prepares migration 8 by hand (README) while the
// previous version serves; the migration then keeps what was done,
// writes what an older replica changed since, rebuilds an index whose
// concurrent build failed, and ends with the same columns.
func TestMigration8AfterThePreparation(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t, "")
	conn := testConn(t, url)
	migrateTo(t, conn, 7)
	insertOld(t, conn, oldMembers)
	stmts := readmePreparation(t)
	if len(stmts) != 4 {
		t.Fatalf("the README's preparation has %d statements, want 4:\n%q", len(stmts), stmts)
	}
	for _, sql := range stmts {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	// An older replica changes a member's contacts after the preparation,
	// writing the record alone; and a concurrent build failed.
	moved := oldMembers[0]
	moved.Email = "b@example.jp"
	data, err := encode(moved)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE members SET data = $2 WHERE id = $1", moved.ID, data); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'members_by_phone'::regclass"); err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(ctx, Options{URL: url}); err != nil {
		t.Fatal(err)
	}
	var valid int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_index WHERE indisvalid AND indexrelid IN
		('members_by_email'::regclass, 'members_by_phone'::regclass)`).Scan(&valid); err != nil || valid != 2 {
		t.Fatalf("valid contact indexes after the migration: %d, %v; want 2", valid, err)
	}
	got := contactColumns(t, conn)
	if got[0] != (contactRow{"m1", "b@example.jp", "+819011110001"}) {
		t.Fatalf("the member an older replica changed: %q, want the new email", got[0])
	}
	orig, err := encode(oldMembers[0])
	if err != nil {
		t.Fatal(err)
	}
	// The member as they were, for the common checks.
	if _, err := conn.Exec(ctx, "UPDATE members SET data = $2, email = 'a@example.jp' WHERE id = $1", "m1", orig); err != nil {
		t.Fatal(err)
	}
	checkBackfilled(t, url, conn)
}

// A replica of a version before migration 8, still running during a
// rollout, changes a member's record and not the contact columns: the
// lookup by the old contact, which the columns still hold, must not
// answer with a member whose record no longer has it.
func TestLookupSkipsAMemberAnOlderReplicaMoved(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t, "")
	s, err := Open(ctx, Options{URL: url, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := oldMembers[0], oldMembers[1]
	b.Email = a.Email
	for _, m := range []storage.Member{a, b} {
		if err := s.CreateMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	moved := a
	moved.Email, moved.Phone = "moved@example.jp", ""
	data, err := encode(moved)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "UPDATE members SET number = $2, data = $3 WHERE id = $1", a.ID, a.Number, data); err != nil {
		t.Fatal(err)
	}
	if ms, err := s.MembersByEmail(ctx, a.Email, 10); err != nil || len(ms) != 1 || ms[0].ID != b.ID {
		t.Errorf("by the old email: %v, %v; want only %s, whose record holds it", memberIDs(ms), err, b.ID)
	}
	if ms, err := s.MembersByPhone(ctx, a.Phone, 10); err != nil || len(ms) != 0 {
		t.Errorf("by the old phone: %v, %v; want no one", memberIDs(ms), err)
	}
}
