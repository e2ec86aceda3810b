// Package e2e holds Tsubasa's end-to-end suites. They build the real
// binary, start it on a free loopback port with a bbolt file in a temporary
// directory, and drive it over HTTP as relying parties do (coreos/go-oidc and
// golang.org/x/oauth2), through the CLI as operators do, and in Chromium as
// members do. Nothing is mocked.
package e2e
