package main

import loginui "tsubasa/login-ui"

// wirePasskeys builds the passkeys feature of the login UI from config.
func (s *server) wirePasskeys() (loginui.Feature, error) {
	return nil, nil // being integrated: see the issue tracker
}
