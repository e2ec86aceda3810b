package admin

import (
	"context"
	"errors"
	"slices"
	"strings"

	"tsubasa/provider"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/storage"
)

func viewClient(c storage.Client, source string) adminapi.ClientView {
	return adminapi.ClientView{
		ID: c.ID, Name: c.Name, Source: source, Public: c.Public, ThirdParty: c.ThirdParty,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		GrantTypes: nonNil(c.GrantTypes), Scopes: nonNil(c.Scopes), IDTokenAlg: c.IDTokenAlg,
		LogoURI: c.LogoURI, PolicyURI: c.PolicyURI, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, JWKS: c.JWKS, JWKSURI: c.JWKSURI, RequirePAR: c.RequirePAR,
		DPoPBoundAccessTokens: c.DPoPBoundAccessTokens, Profile: c.Profile,
		BackchannelLogoutURI: c.BackchannelLogoutURI, BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Service) addClient(ctx context.Context, in adminapi.ClientInput) (adminapi.ClientOutput, error) {
	in.ID = strings.TrimSpace(in.ID)
	in.Name = strings.TrimSpace(in.Name)
	cc, err := s.check(in)
	if err != nil {
		return adminapi.ClientOutput{}, err
	}
	if err := s.appRedirectsFree(ctx, cc); err != nil {
		return adminapi.ClientOutput{}, err
	}
	now := s.now().UTC()
	c := storage.Client{
		ID:                     cc.ID,
		Name:                   cc.Name,
		RedirectURIs:           cc.RedirectURIs,
		PostLogoutRedirectURIs: cc.PostLogoutRedirectURIs,
		Public:                 cc.Public,
		ThirdParty:             cc.ThirdParty,
		GrantTypes:             cc.GrantTypes,
		Scopes:                 cc.Scopes,
		IDTokenAlg:             cc.IDTokenAlg,
		LogoURI:                cc.LogoURI,
		PolicyURI:              cc.PolicyURI,
		CreatedAt:              now,
		UpdatedAt:              now,
		// A private_key_jwt client gets no secret (ClientRegistry.Create).
		TokenEndpointAuthMethod: cc.TokenEndpointAuthMethod,
		JWKS:                    cc.JWKS,
		JWKSURI:                 cc.JWKSURI,
		RequirePAR:              cc.RequirePAR,
		DPoPBoundAccessTokens:   cc.DPoPBoundAccessTokens,
		Profile:                 cc.Profile,
		// Back-channel logout (provider/backchannel.go).
		BackchannelLogoutURI:             cc.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: cc.BackchannelLogoutSessionRequired,
	}
	secret, err := s.clients.Create(ctx, c)
	switch {
	case errors.Is(err, provider.ErrStaticClient):
		return adminapi.ClientOutput{}, adminapi.Conflict("id", "client %q already exists in the config file", c.ID)
	case errors.Is(err, storage.ErrAlreadyExists):
		return adminapi.ClientOutput{}, adminapi.Conflict("id", "client %q already exists", c.ID)
	case err != nil:
		return adminapi.ClientOutput{}, err
	}
	return adminapi.ClientOutput{Client: viewClient(c, adminapi.SourceDatabase), Secret: secret}, nil
}

func (s *Service) listClients(ctx context.Context, _ adminapi.Empty) ([]adminapi.ClientView, error) {
	out := []adminapi.ClientView{}
	for _, c := range s.clients.StaticClients() {
		out = append(out, viewClient(c, adminapi.SourceConfig))
	}
	stored, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range stored {
		out = append(out, viewClient(c, adminapi.SourceDatabase))
	}
	return out, nil
}

func (s *Service) showClient(ctx context.Context, in adminapi.IDInput) (adminapi.ClientView, error) {
	if c, ok := s.clients.Static(in.ID); ok {
		return viewClient(c, adminapi.SourceConfig), nil
	}
	c, err := s.storedClient(ctx, in.ID)
	if err != nil {
		return adminapi.ClientView{}, err
	}
	return viewClient(c, adminapi.SourceDatabase), nil
}

func (s *Service) storedClient(ctx context.Context, id string) (storage.Client, error) {
	if id == "" {
		return storage.Client{}, adminapi.Invalid("id", "a client id is required")
	}
	c, err := s.store.ClientByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return c, adminapi.NotFound("no client %q", id)
	}
	return c, err
}

// clientError words the registry's refusals for the operator.
func clientError(id string, err error) error {
	switch {
	case errors.Is(err, provider.ErrStaticClient):
		return adminapi.Conflict("id", "client %q is defined in the config file; change it there", id)
	case errors.Is(err, storage.ErrNotFound):
		return adminapi.NotFound("no client %q", id)
	case errors.Is(err, provider.ErrPublicClient):
		return adminapi.Invalid("id", "client %q is public and has no secret", id)
	case errors.Is(err, provider.ErrKeyClient):
		return adminapi.Invalid("id", "client %q authenticates with its keys (private_key_jwt) and has no secret; change its keys at its jwks_uri", id)
	}
	return err
}

// removeClient deletes the client through the provider's registry, which
// forgets it at once: its secret, and every token issued to it, fail from
// the next request on, and its members' consents go with it.
func (s *Service) removeClient(ctx context.Context, in adminapi.IDInput) (adminapi.RemovedClient, error) {
	if in.ID == "" {
		return adminapi.RemovedClient{}, adminapi.Invalid("id", "a client id is required")
	}
	removed, err := s.clients.Remove(ctx, in.ID)
	if err != nil {
		return adminapi.RemovedClient{}, clientError(in.ID, err)
	}
	return adminapi.RemovedClient{ID: in.ID, RevokedTokens: removed.Tokens, RemovedConsents: removed.Consents}, nil
}

// rotateClientSecret replaces the secret through the provider's registry:
// the old one fails from the next request on.
func (s *Service) rotateClientSecret(ctx context.Context, in adminapi.IDInput) (adminapi.ClientOutput, error) {
	if in.ID == "" {
		return adminapi.ClientOutput{}, adminapi.Invalid("id", "a client id is required")
	}
	c, secret, err := s.clients.RotateSecret(ctx, in.ID)
	if err != nil {
		return adminapi.ClientOutput{}, clientError(in.ID, err)
	}
	return adminapi.ClientOutput{Client: viewClient(c, adminapi.SourceDatabase), Secret: secret}, nil
}

// appRedirectsFree refuses a native app's redirect URI (a private-use
// scheme or a loopback redirect without a port) that another client, of
// the config file or the database, already has: either app could then
// receive the other's codes (RFC 8252 §8.6). Config validation refuses the
// same among the file's clients.
func (s *Service) appRedirectsFree(ctx context.Context, in adminapi.ClientInput) error {
	others := s.clients.StaticClients()
	stored, err := s.store.ListClients(ctx)
	if err != nil {
		return err
	}
	others = append(others, stored...)
	for _, uri := range in.RedirectURIs {
		if !provider.AppRedirect(uri) {
			continue
		}
		for _, c := range others {
			if c.ID != in.ID && slices.Contains(c.RedirectURIs, uri) {
				return adminapi.Conflict("redirect_uri", "%s is already a redirect URI of client %q: an app's redirect URI belongs to one client", uri, c.ID)
			}
		}
	}
	return nil
}
