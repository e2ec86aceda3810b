package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
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
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// newClientSecret returns 32 random bytes, base64url: 256 bits, safe in
// URLs and HTTP Basic authentication alike.
func newClientSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Service) addClient(ctx context.Context, in adminapi.ClientInput) (adminapi.ClientOutput, error) {
	in.ID = strings.TrimSpace(in.ID)
	in.Name = strings.TrimSpace(in.Name)
	cc, err := s.check(in)
	if err != nil {
		return adminapi.ClientOutput{}, err
	}
	if _, ok := s.static[cc.ID]; ok {
		return adminapi.ClientOutput{}, adminapi.Conflict("id", "client %q already exists in the config file", cc.ID)
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
	}
	var secret string
	if !c.Public {
		if secret, err = newClientSecret(); err != nil {
			return adminapi.ClientOutput{}, err
		}
		c.SecretHash = provider.HashSecret(s.hmacKey, secret)
	}
	if err := s.store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return adminapi.ClientOutput{}, adminapi.Conflict("id", "client %q already exists", c.ID)
		}
		return adminapi.ClientOutput{}, err
	}
	return adminapi.ClientOutput{Client: viewClient(c, adminapi.SourceDatabase), Secret: secret}, nil
}

func (s *Service) listClients(ctx context.Context, _ adminapi.Empty) ([]adminapi.ClientView, error) {
	out := make([]adminapi.ClientView, 0, len(s.static))
	for _, c := range s.static {
		out = append(out, viewClient(c, adminapi.SourceConfig))
	}
	slices.SortFunc(out, func(a, b adminapi.ClientView) int { return strings.Compare(a.ID, b.ID) })
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
	if c, ok := s.static[in.ID]; ok {
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

// staticOnly refuses changes to clients of the config file, which the file
// would bring back at the next start.
func (s *Service) staticOnly(id string) error {
	if _, ok := s.static[id]; ok {
		return adminapi.Conflict("id", "client %q is defined in the config file; change it there", id)
	}
	return nil
}

// removeClient deletes the client and revokes its tokens, so that nothing it
// was issued keeps working.
func (s *Service) removeClient(ctx context.Context, in adminapi.IDInput) (adminapi.RemovedClient, error) {
	id := in.ID
	if err := s.staticOnly(id); err != nil {
		return adminapi.RemovedClient{}, err
	}
	if _, err := s.storedClient(ctx, id); err != nil {
		return adminapi.RemovedClient{}, err
	}
	if err := s.store.DeleteClient(ctx, id); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return adminapi.RemovedClient{}, adminapi.NotFound("no client %q", id)
		}
		return adminapi.RemovedClient{}, err
	}
	n, err := s.store.DeleteTokens(ctx, storage.TokenFilter{ClientID: id})
	if err != nil {
		return adminapi.RemovedClient{}, fmt.Errorf("client %s removed, but revoking its tokens failed: %w", id, err)
	}
	return adminapi.RemovedClient{ID: id, RevokedTokens: n}, nil
}

// rotateClientSecret replaces the secret at once: the old one stops working.
func (s *Service) rotateClientSecret(ctx context.Context, in adminapi.IDInput) (adminapi.ClientOutput, error) {
	id := in.ID
	if err := s.staticOnly(id); err != nil {
		return adminapi.ClientOutput{}, err
	}
	c, err := s.storedClient(ctx, id)
	if err != nil {
		return adminapi.ClientOutput{}, err
	}
	if c.Public {
		return adminapi.ClientOutput{}, adminapi.Invalid("id", "client %q is public and has no secret", id)
	}
	secret, err := newClientSecret()
	if err != nil {
		return adminapi.ClientOutput{}, err
	}
	hash, now := provider.HashSecret(s.hmacKey, secret), s.now().UTC()
	err = s.store.UpdateClient(ctx, id, func(c storage.Client) (storage.Client, error) {
		c.SecretHash, c.UpdatedAt = hash, now
		return c, nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return adminapi.ClientOutput{}, adminapi.NotFound("no client %q", id)
	}
	if err != nil {
		return adminapi.ClientOutput{}, err
	}
	c.SecretHash, c.UpdatedAt = hash, now
	return adminapi.ClientOutput{Client: viewClient(c, adminapi.SourceDatabase), Secret: secret}, nil
}
