// Package bolttest opens throwaway bolt stores for the tests of packages
// that need a real backend (the services under provider/, login-ui): a
// fresh file in the test's temporary directory, closed when the test ends.
package bolttest
