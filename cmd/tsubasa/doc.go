// Command tsubasa is the Tsubasa binary: main hands the command line to
// the CLI, and everything else lives in a package named for its concern.
//
// Subcommands:
//
//	serve                         run the provider (development mode without --config)
//	member create|show|disable|enable|set-password|import
//	client add|list|show|remove|rotate-secret
//	keys list|rotate
//	events --member N             a member's audit log
//	backup --out F, restore --from F   (bbolt; on PostgreSQL they name pg_dump and PITR)
//	db status|migrate             the PostgreSQL schema's migrations
//	migrate-storage --from bolt PATH --to postgres [URL]   copy a bbolt file into PostgreSQL
//	loadtest                      drive a running server and report throughput and latency
//	version
//
// Who calls whom (arrows point down only; graph_test.go checks them with
// `go list`, size_test.go keeps this package within its line budget):
//
//	main (this package)
//	  └─ internal/cli          the cobra tree: flags, config loading, printing, exit codes
//	       ├─ internal/app     the composition root: Serve, OpenAdmin, PasswordHash
//	       │    ├─ login-ui, provider, provider/<domain>, storage/bolt   built from config here only
//	       │    ├─ provider/admin      the admin operations (served on the socket)
//	       │    ├─ internal/adminsock  the admin socket's server
//	       │    ├─ internal/metrics    Prometheus metrics, on the management listener
//	       │    └─ internal/demo       the development demo relying party
//	       ├─ internal/adminsock   the admin socket's client, and Direct (in process)
//	       ├─ internal/backup      backup and restore of the database file
//	       └─ internal/loadtest    the load generator: a tool, importing nothing of ours
//
// The composition root is a package of its own (internal/app) rather than
// package main because the CLI must call it (serve, and the admin commands
// when no server holds the database) and a package cannot import main.
// The root stays the only place that turns config into constructors: the
// CLI reads config for what it needs to find (the socket, the database
// file, the issuer) and asks app for everything it builds, and the graph
// test allows login-ui, the provider, the admin operations and the bbolt
// store to be imported under cmd by app alone (backup copies the bbolt
// file).
//
// On PostgreSQL (storage.postgres.url) the admin commands open the shared
// database in their own process, as many at once as need to. With bbolt,
// which allows one process per database file, every command other than
// serve first tries the running server's admin socket (internal/adminsock:
// JSON over HTTP on a Unix socket beside the database, owner-only, peer uid
// checked) and opens the file itself only when no server answers; both
// paths run the same operations (provider/admin, their types in
// provider/admin/adminapi). What the server assembles, and its route map,
// are in internal/app's package doc.
package main
