// Package bolt is Tsubasa's embedded storage backend: one bbolt file holds
// every record of storage.Store. Open it with Open; it passes the
// storagetest conformance suite.
//
// # One process per file
//
// bbolt takes an exclusive flock on the file, so only one process can open
// it read-write (read-only opens share a lock with each other but not with
// a writer). Open waits Options.Timeout for the lock and then fails with an
// error wrapping ErrLocked that names the file. Run one Tsubasa per file;
// use Backup (or the backup command) for a copy while it runs.
//
// # Bucket layout
//
// Records are stored as one schema version byte followed by JSON, all times
// in UTC, in a bucket per kind keyed by the primary key:
//
//	members, clients, keys, auth_requests, auth_codes (by HMAC), tokens,
//	sessions, otps, passkeys (by credential id), events, outbox
//	devices, consents    keyed by ikey(member id, id): a member's are one prefix
//	secrets              raw bytes by name
//	sms_budget           timeKey(minute) → that minute's SMS count (smsbudget.go)
//	pushed_requests      by the HMAC of the request_uri (RFC 9126; partner.go)
//	used_jtis            by the caller's key of a client assertion's jti (partner.go)
//	device_grants        by the HMAC of the device_code, a unique index on the HMAC of the
//	                     user code (RFC 8628; device.go)
//	meta                 "schema" → version byte
//
// Buckets added after files of schema version 1 were in use (sms_budget,
// pushed_requests, used_jtis, device_grants and their indexes) are created by a read-write open but not required by the schema check,
// so backups taken before them still verify and restore.
//
// Index buckets map a derived key to the primary key. ikey(field, rest) is
// the field prefixed by its length (uvarint) and then rest, so a prefix scan
// for one field value never runs into another value:
//
//	members_by_number, members_by_webauthn_handle   value → id (unique)
//	otps_by_member_purpose                          ikey(member, purpose) → id (unique)
//	tokens_by_{member,client,session,family,auth_request}
//	sessions_by_member, passkeys_by_member          ikey(value, id) → id
//	events_by_member                                ikey(member, time+id) → id
//	outbox_by_due                                   next attempt+created+id → id (pending only)
//	outbox_by_order                                 ikey(order key, created+id) → id (pending with a key only)
//	*_by_expiry                                     ExpiresAt+id → id
//
// Times in keys are 12 bytes (Unix seconds with the sign bit flipped, then
// nanoseconds, big-endian), which sort bytewise in time order. DeleteExpired
// walks each expiry index from the start up to now, so it visits only what
// is due, and deletes each record with all its index entries.
// DeleteEventsBefore (the audit retention) has no index of its own: event
// ids start with the time, so it walks the events bucket from its start
// and stops at the first event inside the retention.
//
// # Writes
//
// bbolt has one writer at a time and every commit fsyncs. Every write goes
// through a group commit (commit.go): a write that finds the writer idle
// commits at once, and the writes that arrive meanwhile share the next
// transaction and its fsync; NoSync is never used. The committer may run
// a function more than once, so write functions are
// pure apart from the transaction and reset what they capture. A function
// decides expected failures (not found, already exists, consumed, an error
// from an UpdateX fn) before its first write and reports them with abort,
// which lets the rest of the batch commit; any other error rolls the batch
// back and the function runs again alone. Bytes read in a transaction are
// copied (JSON decoding copies) before it ends; no bbolt type leaves the
// package.
//
// A request's unit (units.go, storage.Units) holds AppendEvent,
// CreateSession and RecordLogin without an alert as write functions. The
// next write under the same context runs them first, in its own
// transaction; the unit's commit function runs what is left alone. A held
// function that aborts fails that transaction (everything it was answered
// with is rolled back with it), and the unit keeps the first such failure
// for its commit function to return. A password login held this way
// commits once in its POST (the code, with the event, the device and the
// session) instead of four times.
//
// An update rewrites only the index entries whose key changed: consuming a
// refresh token or a code, or a session's login state, writes the record
// alone.
//
// Export and Import (export.go) read a kind's bucket as stored and write
// through the same tables as the roles, so a copy keeps every index; a
// revocation is remembered in memory once its import commits.
//
// # What is kept in memory
//
// One process owns the file, so what this process remembers is exact:
//
//   - authorization requests until their code is saved (pending.go): a
//     crash loses logins in progress, never a code;
//   - decoded members for MemberByID (membercache.go) and a mirror of the
//     recorded revocations (revocations.go), both changed by the writes
//     that change what they copy;
//   - the throttles, the counts of login attempts in flight and the
//     single-use claims (limits.go: storage.Throttles, LoginAttempts,
//     SingleUse), which are not written to the file at all: their checks
//     and counts cost no commit and no fsync. A restart forgets them:
//     throttle windows start afresh (the lockouts of members and devices
//     are in their records and stay), and a claim made before it may be
//     made again;
//   - the subscribers of client and key changes (changes.go), told before
//     the write that made a change returns.
//
// # Free list
//
// The file is opened with bbolt's NoFreelistSync: a commit does not write
// the list of free pages (otherwise one more page to allocate and write,
// and every free page id sorted, at every commit). Durability does not
// depend on it. A commit still writes the dirty data pages and fdatasyncs,
// then writes the meta page and fdatasyncs again (bbolt tx.go,
// (*Tx).write and (*Tx).writeMeta), and only that meta page makes the
// commit visible; it records "no free list" (PgidNoFreelist). Opening the
// file read-write rebuilds the list by walking every page reachable from
// the newest valid meta page (db.go, loadFreelist and freepages): what is
// not reachable is free. A crash between the two fdatasyncs leaves the
// previous meta page in charge, whose pages that commit did not overwrite
// (bbolt never reuses a page freed by the commit being written). The cost
// is at open: the walk reads every page (BenchmarkOpenFilled: about 25ms
// for 50,000 tokens in an 83 MiB file, from the page cache), and it checks
// the tree, so a damaged file fails to open where reading a stored list
// would not have noticed: Open reports it as damaged, or bbolt's walk
// panics on its own goroutine and ends the process. Verify reads every page
// under a recover first, so it reports such a file instead. Files
// written with a stored free list open as before (the list is read once,
// then dropped at the first commit), and bbolt without the option rebuilds
// and stores the list, so the setting can change in either direction.
package bolt
