// Package cli is the tsubasa command tree (cobra): serve, member, client,
// keys, events, backup and restore, loadtest and version. It parses flags,
// loads the configuration, calls what does the work and prints the result
// for people or, with --json, for scripts. Exit codes: 0, 1 for a failure,
// 2 for a usage error (a bad flag, or a request the admin API refuses as
// invalid).
//
// Who does the work:
//
//	serve                    app.Serve, the composition root
//	member, client, keys,    the admin API (provider/admin, its types in adminapi): through the
//	events                   running server's admin socket (adminsock), or, when no server
//	                         holds the database, in this process (app.OpenAdmin)
//	                         (always in this process on PostgreSQL: no socket, many processes)
//	backup, restore          package backup (a hot backup streams through the admin socket);
//	                         refused on PostgreSQL, whose own tools (pg_dump, PITR) are named
//	db status|migrate        app.SchemaStatus, app.MigrateSchema (PostgreSQL only)
//	migrate-storage          app.MigrateStorage: a bbolt file into an empty PostgreSQL database
//	loadtest                 package loadtest; --setup creates its client and members
//	                         through the admin API, only with loadtest.allow_setup
//
// The CLI builds nothing from config itself: it reads the config to find
// the socket, the database and the issuer, and leaves constructors to the
// composition root.
package cli
