// Package adminsock carries the admin API (tsubasa/provider/admin, its
// vocabulary in adminapi) over a Unix socket beside the database: the
// server the running Tsubasa listens with, the client the CLI calls it
// with, and Direct, which runs the same operations in the CLI's own
// process when no server holds the database (bbolt allows one process per
// file, so while a server runs the CLI must go through it).
//
// The socket is the admin API's only access control: mode 0600, and on
// Linux each connection's peer user is checked (SO_PEERCRED) before a byte
// is read; only the server's own user and root get in. Requests are
// POST /v1/<op>; anything else is 404. An operation's *adminapi.Error is
// answered as JSON with its status; any other failure is logged with a
// request id and answered with that id only, never its text.
package adminsock
