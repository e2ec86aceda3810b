package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"tsubasa/config"
	"tsubasa/provider"
	"tsubasa/storage"
)

// clientInput is a new relying party. Empty grant types, scopes and ID
// token algorithm take the same defaults as clients in the config file.
type clientInput struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name,omitempty"`
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Public                 bool     `json:"public,omitempty"`
	ThirdParty             bool     `json:"third_party,omitempty"`
	GrantTypes             []string `json:"grant_types,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
	IDTokenAlg             string   `json:"id_token_alg,omitempty"`
	LogoURI                string   `json:"logo_uri,omitempty"`
	PolicyURI              string   `json:"policy_uri,omitempty"`
}

// Where a client is defined.
const (
	sourceDatabase = "database"
	sourceConfig   = "config"
)

// clientView is a client as shown to the operator: never its secret hash.
type clientView struct {
	ID                     string    `json:"id"`
	Name                   string    `json:"name"`
	Source                 string    `json:"source"` // database or config
	Public                 bool      `json:"public"`
	ThirdParty             bool      `json:"third_party"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	GrantTypes             []string  `json:"grant_types"`
	Scopes                 []string  `json:"scopes"`
	IDTokenAlg             string    `json:"id_token_alg"`
	LogoURI                string    `json:"logo_uri,omitempty"`
	PolicyURI              string    `json:"policy_uri,omitempty"`
	CreatedAt              time.Time `json:"created_at,omitzero"`
	UpdatedAt              time.Time `json:"updated_at,omitzero"`
}

// clientOutput answers add and rotate-secret. Secret is the only time the
// client secret is ever shown: only its HMAC is stored.
type clientOutput struct {
	Client clientView `json:"client"`
	Secret string     `json:"secret,omitempty"`
}

type removedClient struct {
	ID            string `json:"id"`
	RevokedTokens int    `json:"revoked_tokens"`
}

func viewClient(c storage.Client, source string) clientView {
	return clientView{
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

func (o *adminOps) addClient(ctx context.Context, in clientInput) (clientOutput, error) {
	in.ID = strings.TrimSpace(in.ID)
	cc, err := o.checkClient(in)
	if err != nil {
		return clientOutput{}, err
	}
	if _, ok := o.static[cc.ID]; ok {
		return clientOutput{}, conflict("id", "client %q already exists in the config file", cc.ID)
	}
	now := o.now().UTC()
	c := storage.Client{
		ID:                     cc.ID,
		Name:                   cc.Name,
		RedirectURIs:           cc.RedirectURIs,
		PostLogoutRedirectURIs: cc.PostLogoutRedirectURIs,
		Public:                 cc.Public,
		ThirdParty:             cc.ThirdParty,
		GrantTypes:             cc.GrantTypes,
		Scopes:                 cc.Scopes,
		IDTokenAlg:             cc.IDTokenSignedResponseAlg,
		LogoURI:                cc.LogoURI,
		PolicyURI:              cc.PolicyURI,
		CreatedAt:              now,
		UpdatedAt:              now,
	}
	var secret string
	if !c.Public {
		if secret, err = newClientSecret(); err != nil {
			return clientOutput{}, err
		}
		c.SecretHash = provider.HashSecret(o.hmacKey, secret)
	}
	if err := o.store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return clientOutput{}, conflict("id", "client %q already exists", c.ID)
		}
		return clientOutput{}, err
	}
	return clientOutput{Client: viewClient(c, sourceDatabase), Secret: secret}, nil
}

// problemPath matches a client problem of config validation, e.g.
// clients[0].redirect_uris[2].
var problemPath = regexp.MustCompile(`^clients\[0\]\.([a-z_]+)(?:\[(\d+)\])?$`)

// checkClient applies the config file's defaults and rules to in, so that a
// client added here is exactly as valid as one written in the file.
func (o *adminOps) checkClient(in clientInput) (config.ClientConfig, error) {
	cc := config.ClientConfig{
		ID:                       in.ID,
		Name:                     strings.TrimSpace(in.Name),
		RedirectURIs:             in.RedirectURIs,
		PostLogoutRedirectURIs:   in.PostLogoutRedirectURIs,
		Public:                   in.Public,
		ThirdParty:               in.ThirdParty,
		GrantTypes:               in.GrantTypes,
		Scopes:                   in.Scopes,
		IDTokenSignedResponseAlg: in.IDTokenAlg,
		LogoURI:                  in.LogoURI,
		PolicyURI:                in.PolicyURI,
	}.WithDefaults(o.cfg.Keys.Algorithm)
	if cc.Name == "" {
		cc.Name = cc.ID
	}
	if !cc.Public {
		cc.Secret = "generated below; stands in so the secret rule passes"
	}
	probe := o.cfg
	probe.Clients = []config.ClientConfig{cc}
	var ve *config.ValidationError
	if err := probe.Validate(); errors.As(err, &ve) {
		var msgs []string
		first := ""
		for _, p := range ve.Problems {
			m := problemPath.FindStringSubmatch(p.Path)
			if m == nil {
				continue // not about this client
			}
			// The API calls the algorithm by its short name.
			field := strings.Replace(strings.TrimPrefix(p.Path, "clients[0]."),
				"id_token_signed_response_alg", "id_token_alg", 1)
			if first == "" {
				first = field
			}
			msg := field + ": " + p.Message
			if v, ok := clientValue(cc, m[1], m[2]); ok {
				msg = fmt.Sprintf("%s %q: %s", field, v, p.Message)
			}
			msgs = append(msgs, msg)
		}
		if len(msgs) > 0 {
			return cc, invalid(first, "invalid client: %s", strings.Join(msgs, "; "))
		}
	}
	cc.Secret = ""
	return cc, nil
}

// clientValue returns the value a problem is about, to quote it back.
func clientValue(cc config.ClientConfig, key, index string) (string, bool) {
	lists := map[string][]string{
		"redirect_uris":             cc.RedirectURIs,
		"post_logout_redirect_uris": cc.PostLogoutRedirectURIs,
		"grant_types":               cc.GrantTypes,
		"scopes":                    cc.Scopes,
	}
	if l, ok := lists[key]; ok && index != "" {
		i, err := strconv.Atoi(index)
		if err != nil || i >= len(l) {
			return "", false
		}
		return l[i], true
	}
	switch key {
	case "id":
		return cc.ID, true
	case "id_token_signed_response_alg":
		return cc.IDTokenSignedResponseAlg, true
	case "logo_uri":
		return cc.LogoURI, true
	case "policy_uri":
		return cc.PolicyURI, true
	}
	return "", false
}

func (o *adminOps) listClients(ctx context.Context) ([]clientView, error) {
	out := make([]clientView, 0, len(o.static))
	for _, c := range o.static {
		out = append(out, viewClient(c, sourceConfig))
	}
	slices.SortFunc(out, func(a, b clientView) int { return strings.Compare(a.ID, b.ID) })
	stored, err := o.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range stored {
		out = append(out, viewClient(c, sourceDatabase))
	}
	return out, nil
}

func (o *adminOps) showClient(ctx context.Context, id string) (clientView, error) {
	if c, ok := o.static[id]; ok {
		return viewClient(c, sourceConfig), nil
	}
	c, err := o.storedClient(ctx, id)
	if err != nil {
		return clientView{}, err
	}
	return viewClient(c, sourceDatabase), nil
}

func (o *adminOps) storedClient(ctx context.Context, id string) (storage.Client, error) {
	if id == "" {
		return storage.Client{}, invalid("id", "a client id is required")
	}
	c, err := o.store.ClientByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return c, notFound("no client %q", id)
	}
	return c, err
}

// staticOnly refuses changes to clients of the config file, which the file
// would bring back at the next start.
func (o *adminOps) staticOnly(id string) error {
	if _, ok := o.static[id]; ok {
		return conflict("id", "client %q is defined in the config file; change it there", id)
	}
	return nil
}

// removeClient deletes the client and revokes its tokens, so that nothing it
// was issued keeps working.
func (o *adminOps) removeClient(ctx context.Context, id string) (removedClient, error) {
	if err := o.staticOnly(id); err != nil {
		return removedClient{}, err
	}
	if _, err := o.storedClient(ctx, id); err != nil {
		return removedClient{}, err
	}
	if err := o.store.DeleteClient(ctx, id); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return removedClient{}, notFound("no client %q", id)
		}
		return removedClient{}, err
	}
	n, err := o.store.DeleteTokens(ctx, storage.TokenFilter{ClientID: id})
	if err != nil {
		return removedClient{}, fmt.Errorf("client %s removed, but revoking its tokens failed: %w", id, err)
	}
	return removedClient{ID: id, RevokedTokens: n}, nil
}

// rotateClientSecret replaces the secret at once: the old one stops working.
func (o *adminOps) rotateClientSecret(ctx context.Context, id string) (clientOutput, error) {
	if err := o.staticOnly(id); err != nil {
		return clientOutput{}, err
	}
	c, err := o.storedClient(ctx, id)
	if err != nil {
		return clientOutput{}, err
	}
	if c.Public {
		return clientOutput{}, invalid("id", "client %q is public and has no secret", id)
	}
	secret, err := newClientSecret()
	if err != nil {
		return clientOutput{}, err
	}
	hash, now := provider.HashSecret(o.hmacKey, secret), o.now().UTC()
	err = o.store.UpdateClient(ctx, id, func(c storage.Client) (storage.Client, error) {
		c.SecretHash, c.UpdatedAt = hash, now
		return c, nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return clientOutput{}, notFound("no client %q", id)
	}
	if err != nil {
		return clientOutput{}, err
	}
	c.SecretHash, c.UpdatedAt = hash, now
	return clientOutput{Client: viewClient(c, sourceDatabase), Secret: secret}, nil
}
