package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"tsubasa/config"
	"tsubasa/provider"
	"tsubasa/provider/member"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// Deps are what both the server and the CLI's direct (no server) mode need:
// the open database, the server secrets and the member service.
type Deps struct {
	Config    config.Config
	Store     *bolt.Store
	HMACKey   []byte   // hashes tokens, codes, OTPs, client secrets; derives pairwise subs
	CryptoKey [32]byte // encrypts opaque access tokens and codes
	CookieKey []byte   // authenticates session cookies
	Hasher    *member.Hasher
	Members   *member.Service
	Log       *slog.Logger
}

// Open opens the database (failing clearly when another process holds
// it) and loads or creates the server secrets.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, lockTimeout time.Duration) (*Deps, error) {
	st, err := bolt.Open(cfg.Storage.Bolt.Path, bolt.Options{
		Timeout: lockTimeout, Logger: log,
		// Revocations of self-contained access tokens must outlive them.
		RevokeFor: cfg.Tokens.AccessTokenTTL + time.Hour,
	})
	if err != nil {
		return nil, err
	}
	d := &Deps{Config: cfg, Store: st, Log: log}
	if err := d.loadSecrets(ctx); err != nil {
		st.Close()
		return nil, err
	}
	d.Hasher = member.NewHasher(hashOptions(cfg))
	d.Members = member.NewService(st, d.Hasher, memberOptions(cfg, log))
	return d, nil
}

// hashOptions are the password hasher's: password.argon2 and the limiter.
func hashOptions(cfg config.Config) member.HashOptions {
	return member.HashOptions{
		MemoryKiB:     cfg.Password.Argon2.MemoryKiB,
		Iterations:    cfg.Password.Argon2.Iterations,
		Parallelism:   cfg.Password.Argon2.Parallelism,
		MaxConcurrent: cfg.Password.MaxConcurrentHashes,
		Queue:         cfg.Password.HashQueue,
	}
}

// PasswordHash returns the server's password hash with cfg's parameters,
// for n hashes at once and no queue: what a login's verify costs, for the
// load generator's hash ceiling.
func PasswordHash(cfg config.Config, n int) func(ctx context.Context, password string) error {
	o := hashOptions(cfg)
	o.MaxConcurrent, o.Queue = n, 0
	h := member.NewHasher(o)
	return func(ctx context.Context, password string) error {
		_, err := h.Hash(ctx, password)
		return err
	}
}

// Close closes the database.
func (d *Deps) Close() error { return d.Store.Close() }

// random returns a source of n random bytes, as Store.Secret takes.
func random(n int) func() ([]byte, error) {
	return func() ([]byte, error) {
		b := make([]byte, n)
		_, err := rand.Read(b)
		return b, err
	}
}

// loadSecrets derives the server's keys from the configured master secret,
// or from one generated on first start and kept in the database, so that a
// restart keeps sessions, codes and tokens valid.
func (d *Deps) loadSecrets(ctx context.Context) error {
	master := []byte(d.Config.Secret)
	if len(master) == 0 {
		var err error
		master, err = d.Store.Secret(ctx, "master", random(32))
		if err != nil {
			return fmt.Errorf("load server secret: %w", err)
		}
	}
	d.HMACKey = deriveKey(master, "hmac")
	copy(d.CryptoKey[:], deriveKey(master, "token-encryption"))
	d.CookieKey = deriveKey(master, "cookie")
	return nil
}

// staticClients turns the config file's clients into records with hashed secrets.
func staticClients(cfg config.Config, hmacKey []byte) []storage.Client {
	out := make([]storage.Client, 0, len(cfg.Clients))
	for _, c := range cfg.Clients {
		c = c.WithDefaults(cfg.Keys.Algorithm)
		sc := storage.Client{
			ID:                     c.ID,
			Name:                   c.Name,
			RedirectURIs:           c.RedirectURIs,
			PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
			Public:                 c.Public,
			ThirdParty:             c.ThirdParty,
			GrantTypes:             c.GrantTypes,
			Scopes:                 c.Scopes,
			IDTokenAlg:             c.IDTokenSignedResponseAlg,
			LogoURI:                c.LogoURI,
			PolicyURI:              c.PolicyURI,
			// Partner clients (README "Partner apps").
			TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
			JWKS:                    c.JWKS,
			JWKSURI:                 c.JWKSURI,
			RequirePAR:              c.RequirePushedAuthorizationRequests,
		}
		if c.Secret != "" {
			sc.SecretHash = provider.HashSecret(hmacKey, c.Secret)
		}
		out = append(out, sc)
	}
	return out
}

func memberOptions(cfg config.Config, log *slog.Logger) member.Options {
	var breach member.BreachChecker
	if cfg.Password.BreachCheck.URL != "" {
		breach = member.NewHIBPChecker(cfg.Password.BreachCheck.URL, nil, log)
	}
	cutover, _ := cfg.PINCutover()
	return member.Options{
		Policy: member.Policy{
			MinLength:    cfg.Password.MinLength,
			MaxLength:    cfg.Password.MaxLength,
			MinClasses:   cfg.Password.MinClasses,
			RejectCommon: cfg.Password.RejectCommon,
			Breach:       breach,
		},
		Lockout: member.LockoutOptions{
			MaxFailures:      cfg.Lockout.MaxFailures,
			Window:           cfg.Lockout.Window,
			BaseDelay:        cfg.Lockout.BaseDelay,
			MaxDelay:         cfg.Lockout.MaxDelay,
			PerIPMaxFailures: cfg.Lockout.PerIPMaxFailures,
			// Device ids come from the risk feature's device cookie.
			KnownDeviceMaxFailures: cfg.Lockout.KnownDeviceMaxFailures,
		},
		PINWebCutover:        cutover,
		TelephoneMaxFailures: cfg.LegacyPIN.TelephoneMaxFailures,
		TelephoneLockout:     cfg.LegacyPIN.TelephoneLockout,
		Emit:                 siemEmit(cfg),
		Logger:               log,
	}
}
