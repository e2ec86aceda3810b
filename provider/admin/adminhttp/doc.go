// Package adminhttp serves the admin operations (tsubasa/provider/admin)
// over HTTP: the admin API under /admin/v1/, for the programme's systems
// and the CLI's --server mode. One table, adminapi.Routes, drives the mux,
// the scope each route needs, the request binding and the OpenAPI 3.1
// document (Document, served at /admin/v1/openapi.json), so none of them
// can forget a route.
//
// What a request goes through, in order (call.go):
//
//	check                                   answer
//	--------------------------------------  -----------------------------------------------
//	path or method of no route              404, or 405 with Allow
//	Options.Authenticate: no token, or an   401 with a Bearer challenge; not audited (no
//	invalid, revoked, member's or removed   client to name), logged
//	client's one
//	the client's rate (ratelimit.go)        429 with Retry-After; not audited, logged
//	the route's scope                       403 insufficient_scope naming it
//	X-Tsubasa-Agent malformed               400 invalid-agent
//	body over its bound, not JSON, a field  413, 415, 400 naming the field
//	the route has not, If-Match missing     428
//	Idempotency-Key held (idempotency.go)   the first answer again, 422 for another
//	                                        request, 409 while it runs
//	the operation                           its answer, or its *adminapi.Error as a problem
//
// Every call from the rate check on stores one audit event, admin.call
// (audit.go), naming the client, the agent, the route and the outcome,
// before its answer leaves: an answer whose event cannot be stored is
// withheld. A change to a member is recorded under the member; a read
// names the member in its detail only, so that systems reading members
// all day never bury a member's own login history.
//
// Errors are RFC 9457 problem details (application/problem+json) whose
// type is adminapi.ProblemBase followed by a stable name; a GET of the
// type describes it. Detail is the operation's own wording, never an
// internal error's text: those are logged with the request id the answer
// gives.
//
// A member import runs as a job (job.go): 202 with Location as soon as
// the job is stored, the file then read as it streams (full duplex), the
// answer's body the job as it ended.
//
// # Several replicas
//
// Everything that decides an answer is in storage: the rate limit's state
// (Throttles, one record per client), idempotent answers (Idempotency, one
// atomic reservation per key), jobs and cursors' pages. A cursor is signed
// with a key every replica derives from the master secret. Nothing the
// package keeps in memory decides anything.
package adminhttp
