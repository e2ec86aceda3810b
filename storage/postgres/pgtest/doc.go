// Package pgtest runs a throwaway PostgreSQL cluster for the tests of one
// test binary, and hands each test a fresh database in it.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.NewDatabase(t, "") // an empty database, dropped when t ends
//		…
//	}
//
// The cluster is started on first use, from the Debian package's binaries
// (/usr/lib/postgresql/<version>/bin: CI installs the postgresql package and
// nothing else, so the /usr/local/bin links a developer machine may have
// are not looked at), and stopped when the tests of the binary end. Its
// data and its Unix socket live in a new temporary directory; the server
// also listens on 127.0.0.1 at a free port, with a password (TCPURL).
//
// initdb refuses to run as root, and CI runs as root: then initdb and the
// server run as the unprivileged user the package creates (postgres), or
// nobody, and the directory is handed to that user. The server runs with
// fsync, synchronous_commit and full_page_writes off, autovacuum off and
// small buffers: the cluster is thrown away, so a crash may lose it, and the
// machine is shared. Nothing here is a production setting.
//
// Without PostgreSQL the tests skip with a message saying how to install
// it; with TSUBASA_REQUIRE_POSTGRES=1 (set by .ci/run) they fail instead.
//
// Each test gets its own database, created from a template (CREATE DATABASE
// … TEMPLATE), so tests stay independent and may run in parallel. Template
// builds one template once per binary, for example a migrated schema, so
// that each test's copy costs a file copy rather than the migration.
package pgtest
