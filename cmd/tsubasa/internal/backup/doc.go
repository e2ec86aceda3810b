// Package backup copies the bbolt database file and puts a copy back:
// Through streams a running server's hot backup over the admin socket (one
// read transaction, a snapshot of one moment, while the server keeps
// serving), Direct copies a file no server holds, opened read-only, and
// Write makes either land safely (FILE.tmp, synced, verified, renamed).
// Restore verifies a backup, holds the database's lock while it swaps the
// file in, and keeps the previous one as <database>.bak.
//
// The server side of the hot backup, the backup/* operations of the admin
// API, is in tsubasa/provider/admin.
package backup
