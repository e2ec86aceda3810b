// Package app is Tsubasa's composition root: the one place where the
// configuration becomes constructors and the packages meet. The CLI calls
// its entry points: Serve runs the server; OpenAdmin opens the database
// for the admin operations when no server holds it; PasswordHash gives the
// load generator the server's own hash.
//
// Assembly (serve.go, server.go): Open opens the database (storage.go:
// the bbolt file, or PostgreSQL when storage.postgres.url is set, with
// its pool, timeouts, TLS, revocation delay and auto_migrate) and derives
// the server keys from one master secret (HKDF, keyderive.go), whose
// check value in the database makes a process given another secret
// refuse to start (keycheck.go); newServer
// builds the OpenID provider, the messaging (wire_notify.go: SMTP mailers,
// SMS driver behind the SMS guard, durable outbox worker), and the login
// UI with its features, each wired from config in its own file
// (wire_otp.go, wire_risk.go, wire_consent.go, wire_passkeys.go);
// wire_logout.go passes the provider's validated end-session requests to
// the login UI, which is built after the provider; wire_partner.go builds
// the outbound client (jwks_uri fetches) and gives the provider the UI's
// page for an unusable request_uri; wire_webhooks.go gives the outbox
// worker the webhook deliverer and its dead letters, and wraps the store
// so that an event a subscription asks for wakes the worker;
// wire_ssf.go hands a Shared Signals stream's deliveries to provider/ssf
// with the provider as the SET signer, and serves
// /.well-known/ssf-configuration beside the admin API. routes() mounts the
// login UI's pages, SSO in front of /authorize, the guarded authorization
// callback, the telephone PIN API (provider/member), health, the
// development pages (the demo relying party of package demo, the outbox),
// and hands everything else to the provider; in front of it all, the
// client address middleware built from trusted_proxies (clientaddr.go).
// /metrics (package metrics) is served only on the management listener,
// metrics.listen (management.go). The admin operations (provider/admin)
// are served on the admin socket (adminsock) with the running provider's
// key rotation (admin.go), for bbolt only: on PostgreSQL the CLI opens the
// database itself, and each replica's key ring hears a rotation made
// elsewhere (provider/doc.go, "Signing keys"). /readyz probes the database within
// readyTimeout (a PostgreSQL ping through the pool, which replaces the
// connections a restarted server ended). schema.go runs `tsubasa db`, and
// migratestorage.go copies a bbolt file into PostgreSQL through the
// storage.Exporter and storage.Importer roles. Serve first sets the garbage collector from the
// runtime section (gcruntime.go) and builds the one logger (logging.go).
//
// Route map of the public listener:
//
//	/login, /login/…, /logout, /logged-out, /account…, /static/, /theme.css   login UI
//	/device, /device/confirm        login UI: the device grant's user codes (wire_device.go)
//	/authorize                      SSO, then the provider; errors it must not redirect: the UI's page
//	/authorize/callback             the provider, behind the UI's guard
//	/end_session                    the provider, which hands valid requests to the UI
//	POST /api/telephone/verify      member's telephone PIN check (telephone.enabled)
//	GET /healthz, GET /readyz       health
//	/demo/, GET /dev/outbox         development mode only
//	everything else                 the provider (discovery, /keys, /oauth/par, /oauth/token, /userinfo,
//	                                /device_authorization, …)
package app
