package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAdminAPIRules: every admin.api setting out of range is reported at
// its key path, and an admin scope is refused on any client that could
// carry it into a member's login.
func TestAdminAPIRules(t *testing.T) {
	ops := ClientConfig{ID: "ops", Secret: "ops-secret", GrantTypes: []string{GrantClientCredentials},
		Scopes: AdminScopes()}
	for name, tt := range map[string]struct {
		change func(*Config)
		path   string // "" = valid
		msg    string
	}{
		"a client_credentials client with every admin scope": {func(*Config) {}, "", ""},
		"off": {func(c *Config) { c.Admin.API.Enabled = false }, "", ""},
		"an admin scope with authorization_code": {func(c *Config) {
			c.Clients[3].GrantTypes = []string{GrantClientCredentials, GrantAuthorizationCode}
			c.Clients[3].RedirectURIs = []string{"https://ops.example.com/cb"}
		}, "clients[3].scopes[0]", "remove authorization_code"},
		"an admin scope with refresh_token": {func(c *Config) {
			c.Clients[3].GrantTypes = []string{GrantClientCredentials, GrantRefreshToken}
		}, "clients[3].scopes[1]", "only for a client_credentials client"},
		"an admin scope on a member login client": {func(c *Config) { c.Clients[0].Scopes = []string{"openid", ScopeAdminKeys} },
			"clients[0].scopes[1]", "admin:keys is only for a client_credentials client"},
		"an admin scope on a public client": {func(c *Config) {
			c.Clients[1].Scopes = []string{ScopeAdminMembersRead}
			c.Clients[1].GrantTypes = []string{GrantClientCredentials}
		}, "clients[1].scopes[0]", "public client cannot have it"},
		"an unknown admin scope":     {func(c *Config) { c.Clients[3].Scopes = []string{"admin:everything"} }, "clients[3].scopes[0]", "must be one of"},
		"rate limit":                 {func(c *Config) { c.Admin.API.RateLimit = 0 }, "admin.api.rate_limit", "1 to"},
		"burst":                      {func(c *Config) { c.Admin.API.Burst = -1 }, "admin.api.burst", "1 to"},
		"body above the server's":    {func(c *Config) { c.Admin.API.MaxBodyBytes = 2 << 20 }, "admin.api.max_body_bytes", "1024 to 1048576"},
		"import below a mebibyte":    {func(c *Config) { c.Admin.API.MaxImportBytes = 1000 }, "admin.api.max_import_bytes", "1 MiB"},
		"answers kept under an hour": {func(c *Config) { c.Admin.API.IdempotencyTTL = time.Minute }, "admin.api.idempotency_ttl", "at least 1h"},
		"jobs kept under an hour":    {func(c *Config) { c.Admin.API.JobTTL = 0 }, "admin.api.job_ttl", "at least 1h"},
	} {
		t.Run(name, func(t *testing.T) {
			c := prodConfig()
			c.Clients = append(c.Clients, ops)
			tt.change(&c)
			err := c.Validate()
			if tt.path == "" {
				if err != nil {
					t.Fatalf("Validate:\n%v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatal("validated")
			}
			if !slices.ContainsFunc(ve.Problems, func(p Problem) bool { return p.Path == tt.path && strings.Contains(p.Message, tt.msg) }) {
				t.Errorf("no problem at %s containing %q in:\n%v", tt.path, tt.msg, ve)
			}
		})
	}
}

// TestAdminScopesAreKnown: every admin scope may be given to a client.
func TestAdminScopesAreKnown(t *testing.T) {
	for _, s := range AdminScopes() {
		if !slices.Contains(KnownScopes(), s) || !isAdminScope(s) {
			t.Errorf("admin scope %s is not a known scope of the admin family", s)
		}
	}
}
