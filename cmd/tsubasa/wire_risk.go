package main

import loginui "tsubasa/login-ui"

// wireRisk builds the risk feature of the login UI from config.
func (s *server) wireRisk() (loginui.Feature, error) {
	return nil, nil // being integrated: see the issue tracker
}
