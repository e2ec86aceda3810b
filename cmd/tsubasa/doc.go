// Command tsubasa is the Tsubasa binary and the project's only composition
// root: the one place where configuration becomes constructors and the
// packages meet.
//
// Subcommands:
//
//	serve                         run the provider (development mode without --config)
//	member create|show|disable|enable|set-password|import
//	client add|list|show|remove|rotate-secret
//	keys list|rotate
//	events --member N             a member's audit log
//	backup --out F, restore --from F
//	loadtest                      drive a running server and report throughput and latency
//	version
//
// bbolt allows one process per database file, so every command other than
// serve first tries the running server's admin socket (admin*.go: JSON over
// HTTP on a Unix socket beside the database, owner-only, peer uid checked)
// and opens the file itself only when no server answers; both paths run the
// same adminOps methods.
//
// Assembly (serve.go, server.go): openDeps opens the database and derives
// the server keys from one master secret (HKDF, keyderive.go); newServer
// builds the OpenID provider, the messaging (wire_notify.go: SMTP mailers,
// SMS driver, durable outbox worker), and the login UI with its features,
// each wired from config in its own file (wire_otp.go, wire_risk.go,
// wire_consent.go, wire_passkeys.go); wire_logout.go passes the provider's
// validated end-session requests to the login UI, which is built after the
// provider. routes() mounts the login UI's pages,
// SSO in front of /authorize, the guarded authorization callback, the
// telephone PIN API, health, the development pages (demo relying party,
// outbox), and hands everything else to the provider; in front of it all,
// the client address middleware built from trusted_proxies
// (clientaddr.go, package provider/clientaddr). /metrics is served only on
// the management listener, metrics.listen (management.go). serve first
// sets the garbage collector from the runtime section (gcruntime.go).
package main
