// Package loadtest is the load generator behind `tsubasa loadtest`: it
// drives a running server over HTTP, as browsers and relying parties do,
// with a number of concurrent workers for a set time, each as fast as its
// answers come or all at an offered rate (--rate, schedule.go), and
// reports throughput, latency percentiles and failures per HTTP status
// (Run).
//
// It is a tool, not part of the server: it imports no package of Tsubasa's
// (a test enforces it), so what it measures is the server as any client
// sees it. What it needs to know of the server it is given: the issuer and
// the client and members to use (which the command's --setup creates
// through the admin API), and for the login scenario the server's own
// password hash (HashSpec), to report the hash ceiling.
//
// Files: loadtest.go (Options, Run, the loader), scenarios.go (one entry
// per scenario: what it needs, how a worker prepares, one iteration),
// flows.go and browser.go (the code flow as a browser and an RP play it),
// wire.go (the lean HTTP/1.1 path for one-request scenarios), clientauth.go
// and presign.go (client assertions and DPoP proofs, signed in the run or
// before it), run.go (the
// workers and their clock), schedule.go (an open loop's due times),
// hist.go (latency histograms), sys.go (the hash
// meter and /proc sampling of the server process), report.go, admin.go
// and adminimport.go (the admin API's scenarios: admin-import has a fixed
// amount of work, so its workers stop when it is done, before
// --duration).
package loadtest
