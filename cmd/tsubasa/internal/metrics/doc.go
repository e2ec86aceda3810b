// Package metrics holds the server's Prometheus metrics, on a registry of
// their own: HTTP requests and their latency by endpoint (a fixed set of
// labels, so a scanner cannot blow up the cardinality with random paths),
// password login outcomes, logins by method and the passkey offer's
// outcomes (members.go: passkey adoption), the SMS guard's counts and
// budget, and the Go
// runtime's and the process's. The composition root serves Handler on the
// management listener only (metrics.listen), never on the public one.
package metrics
