package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func query(t *testing.T, url, sql string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var out string
	if err := conn.QueryRow(t.Context(), sql).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Each database is new and empty, over the socket and over TCP, and a
// template's content is in every copy of it.
func TestDatabasesAreFreshCopiesOfTheirTemplate(t *testing.T) {
	c := pgtest.Get(t)
	tmpl := c.Template(t, "pgtest_template", func(url string) error {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(t.Context(), "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('from the template')")
		return err
	})
	a, b := c.NewDatabase(t, tmpl), c.NewDatabase(t, "")
	if got := query(t, a, "SELECT v FROM marker"); got != "from the template" {
		t.Fatalf("copy of the template holds %q", got)
	}
	if got := query(t, b, "SELECT count(*)::text FROM pg_tables WHERE schemaname = 'public'"); got != "0" {
		t.Fatalf("an empty database has %s tables", got)
	}
	if query(t, a, "SELECT current_database()") == query(t, b, "SELECT current_database()") {
		t.Fatal("two tests share a database")
	}
	tcp := c.TCPURL(query(t, a, "SELECT current_database()"))
	if got := query(t, tcp, "SELECT v FROM marker"); got != "from the template" {
		t.Fatalf("over TCP: %q", got)
	}
	// The settings that keep the throwaway cluster cheap are in force.
	if got := query(t, a, "SHOW fsync"); got != "off" {
		t.Errorf("fsync = %s, want off", got)
	}
}
