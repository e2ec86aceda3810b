// Package admin owns Tsubasa's administration operations: relying parties
// (add, list, show, remove, rotate a secret), members (create, show,
// disable and enable, set a password, import from CSV), a member's audit
// events, signing keys (list, rotate) and the online backup. Every
// transport calls the same table of operations (ops.go: name, request and
// response types from adminapi, handler): the admin socket of the CLI
// today (cmd/tsubasa/internal/adminsock), the HTTP admin API later, and
// the CLI's direct mode, which runs them in its own process on a database
// no server holds.
//
// It sits below cmd and above the provider and the domains: it imports
// tsubasa/provider, provider/member, provider/notify, provider/audit and
// storage, and nothing imports it but the composition root. It imports no
// config: the composition root hands it what config decides (the rules a
// new client must meet, the SMS countries, how keys rotate) as Options.
//
// Member support sessions (supportsession.go, supportverify.go) prove that
// the member is on the line before an agent changes their credentials: a
// code of its own purpose (otp.PurposeSupport) goes to the member's chosen
// channel; every entry is counted on the session (storage.SupportSessions)
// and on the member's hourly budget (storage.Throttles) before the code is
// compared, so the bounds hold across replicas; nothing of a session is
// kept in this process's memory. Over the HTTP API, with
// SupportOptions.Require, a password set, passkeys' removal and OTP
// destinations' reset need a session verified for that member by the same
// client and agent (requireSupport); the admin socket's and direct mode's
// operators hold the database and are not asked.
//
// An operation's error is an *adminapi.Error worded for the operator (a bad
// request names its field), or an internal failure, which the transport
// logs and answers with a request id only (Service.Handle).
package admin
