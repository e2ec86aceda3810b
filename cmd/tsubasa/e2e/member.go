package e2e

import "testing"

const (
	MemberNumber = "7654321"
	MemberPass   = "Hikouki-2026"
)

// StartWithMember starts a server and creates a member through the CLI
// (which reaches the running server over its admin socket).
func StartWithMember(t *testing.T, o Options) *Server {
	t.Helper()
	return OneServer.StartWithMember(t, o)
}

// CreateTestMember creates the test member (MemberNumber, MemberPass,
// hanako@example.com, JP, ja) through s's CLI.
func CreateTestMember(t *testing.T, s *Server) {
	t.Helper()
	s.CLI(t, false, "member", "create", "--number", MemberNumber, "--password", MemberPass,
		"--family-name", "空野", "--given-name", "花子", "--email", "hanako@example.com", "--country", "JP", "--locale", "ja")
}
