package e2e

// Output is everything the server has written to stdout and stderr so far
// (its log lines), for tests that check what an operator would see.
func (s *Server) Output() string { return s.out.String() }
