// Package audit owns Tsubasa's security event log: the names of the events,
// how they are identified and stored, their JSON form for a SIEM and their
// one-line form for the `tsubasa events` command.
//
// Events are appended to storage.Events and never changed. An event records
// what happened to whom (member, client, device, IP, user agent, method,
// success and reason), never a secret: Detail values under names that look
// secret (password, secret, token, code, pin, cookie, hash) are replaced
// before anything is stored or written.
//
// Most events are written through Logger.Record. A login is different: its
// event is committed together with the device record and the alert by
// storage.Logins.RecordLogin (see provider/risk), so the caller builds the
// event with NewID and Prepare and, after the commit, hands it to
// Logger.Emit for the SIEM line.
//
// Events are kept for audit.retention (Retention, run by cmd on every
// replica: the backends share the work): older ones are deleted, oldest
// first, a bounded chunk per commit, but for the Kept types (the erasure
// tombstone, the proof of an erasure).
//
// The event IDs are time-ordered (nanoseconds in hex, then random digits), so
// sorting by ID sorts by time; ListEvents returns a member's newest first.
package audit
