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
// An operation's error is an *adminapi.Error worded for the operator (a bad
// request names its field), or an internal failure, which the transport
// logs and answers with a request id only (Service.Handle).
package admin
