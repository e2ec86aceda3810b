package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"tsubasa/storage"
)

// ClientInfo is what the login UI shows of a client: on the consent page
// and in the member's list of linked apps. It never carries the secret.
type ClientInfo struct {
	ID         string
	Name       string // the id when the client has no name
	ThirdParty bool   // members are asked for consent
	LogoURI    string
	PolicyURI  string
	Scopes     []string // scopes the client may ask for
}

// ClientInfo returns a client's public details, from the config file or the
// database. An unknown client is an error wrapping storage.ErrNotFound.
func (p *Provider) ClientInfo(ctx context.Context, id string) (ClientInfo, error) {
	c, err := p.clients.get(ctx, id)
	if err != nil {
		return ClientInfo{}, fmt.Errorf("provider: client %q: %w", id, err)
	}
	name := c.Name
	if name == "" {
		name = c.ID
	}
	return ClientInfo{
		ID:         c.ID,
		Name:       name,
		ThirdParty: c.ThirdParty,
		LogoURI:    c.LogoURI,
		PolicyURI:  c.PolicyURI,
		Scopes:     slices.Clone(c.Scopes),
	}, nil
}

// RevokeClientGrants deletes every access and refresh token the client
// holds for the member (an unlinked app) and returns how many. Both ids are
// required: an empty one would widen the filter to every member or client.
func (p *Provider) RevokeClientGrants(ctx context.Context, memberID, clientID string) (int, error) {
	if memberID == "" || clientID == "" {
		return 0, errors.New("provider: revoke client grants: member and client ids are required")
	}
	n, err := p.store.DeleteTokens(ctx, storage.TokenFilter{MemberID: memberID, ClientID: clientID})
	if err != nil {
		return n, fmt.Errorf("provider: revoke tokens of client %q: %w", clientID, err)
	}
	p.log.InfoContext(ctx, "client grants revoked", "client_id", clientID, "member_id", memberID, "revoked", n)
	return n, nil
}
