package app

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"tsubasa/config"
	"tsubasa/provider/member"
	"tsubasa/storage"
)

// The development demo: a confidential client used by the /demo/ relying
// party and a member to log in with. Development mode only.
const (
	demoClientID     = "demo"
	demoMemberNumber = "1234567"
	demoPassword     = "Sora-Miles-2026"
)

func demoClientSecret(d *Deps) string {
	return hex.EncodeToString(deriveKey(d.HMACKey, "demo-client"))[:32]
}

// seedDev adds the demo client (in memory, like a config client) and the
// demo member (in the database, once) and prints how to use them.
func seedDev(ctx context.Context, d *Deps, out io.Writer) error {
	issuer := strings.TrimSuffix(d.Config.Issuer, "/")
	has := false
	for _, c := range d.Config.Clients {
		has = has || c.ID == demoClientID
	}
	if !has {
		d.Config.Clients = append(d.Config.Clients, config.ClientConfig{
			ID:                     demoClientID,
			Secret:                 demoClientSecret(d),
			Name:                   "Tsubasa demo",
			RedirectURIs:           []string{issuer + "/demo/callback"},
			PostLogoutRedirectURIs: []string{issuer + "/demo/"},
		})
	}
	_, err := d.Members.CreateMember(ctx, member.NewMember{
		Number:          demoMemberNumber,
		Password:        demoPassword,
		PIN:             "246810",
		FamilyName:      "翼",
		GivenName:       "太郎",
		FamilyNameLatin: "TSUBASA",
		GivenNameLatin:  "TARO",
		Email:           "taro@example.com",
		Phone:           "+819012345678",
		Country:         "JP",
		Locale:          "ja",
		Verified:        true,
	})
	if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		return fmt.Errorf("create demo member: %w", err)
	}
	fmt.Fprintf(out, `
Tsubasa is running in development mode (no config file).
  Issuer:        %[1]s
  Demo app:      %[1]s/demo/
  Demo member:   %[2]s  password %[3]s  (legacy PIN 246810)
  Demo client:   id %[4]q, secret %[5]q, redirect %[1]s/demo/callback
  Database:      %[6]s
Do not use development mode in production: see README.md.

`, issuer, demoMemberNumber, demoPassword, demoClientID, demoClientSecret(d), databaseName(d.Config))
	return nil
}
