package e2e

// Output is everything the server has written to stdout and stderr so far
// (its log lines), for tests that check what an operator would see.
// On a cluster it is every replica's, one after the other, each under a
// line naming it.
func (s *Server) Output() string {
	if s.cluster != nil {
		return s.cluster.output()
	}
	return s.out.String()
}
