package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"tsubasa/provider/admin/adminapi"
)

func newClientCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "client",
		Short: "Manage relying parties (OAuth clients)",
		Long: `Manage the relying parties stored in the database. Clients of the config
file are listed too but change only with the file.

With a server running, commands go through its admin socket; otherwise they
open the database file directly.`,
	}
	p := addOutputFlag(cmd, g)
	cmd.AddCommand(
		newClientAddCmd(g, p),
		&cobra.Command{
			Use:   "list",
			Short: "List clients",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				out, err := call(cmd.Context(), g, adminapi.ClientList, adminapi.Empty{})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) {
					tw := table(w, "ID", "NAME", "TYPE", "SOURCE", "REDIRECT URIS")
					for _, c := range out {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, clientType(c), c.Source,
							orDash(strings.Join(c.RedirectURIs, " ")))
					}
					tw.Flush()
				})
			},
		},
		&cobra.Command{
			Use:   "show ID",
			Short: "Show a client (never its secret)",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				out, err := call(cmd.Context(), g, adminapi.ClientShow, adminapi.IDInput{ID: args[0]})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) { printClient(w, out) })
			},
		},
		&cobra.Command{
			Use:   "remove ID",
			Short: "Remove a client, revoke its tokens and forget its members' consents",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				out, err := call(cmd.Context(), g, adminapi.ClientRemove, adminapi.IDInput{ID: args[0]})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) {
					fmt.Fprintf(w, "Removed client %s; revoked %d stored tokens (and every access token it was issued); removed %d members' consents.\n",
						out.ID, out.RevokedTokens, out.RemovedConsents)
				})
			},
		},
		&cobra.Command{
			Use:   "rotate-secret ID",
			Short: "Give a confidential client a new secret (the old one stops working)",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				out, err := call(cmd.Context(), g, adminapi.ClientRotateSecret, adminapi.IDInput{ID: args[0]})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) {
					fmt.Fprintf(w, "New secret of client %s. The old secret no longer works.\n", out.Client.ID)
					printSecret(w, out.Secret)
				})
			},
		},
	)
	return cmd
}

func newClientAddCmd(g *globals, p *printer) *cobra.Command {
	var in adminapi.ClientInput
	cmd := &cobra.Command{
		Use:   "add --id ID --redirect-uri URI [flags]",
		Short: "Add a client; a confidential client's secret is shown once",
		Long: `Add a relying party. A confidential client (the default) gets a random
secret, printed once: only its hash is stored. A partner that authenticates
with its keys (--token-endpoint-auth-method private_key_jwt, with --jwks,
--jwks-file or --jwks-uri) gets no secret. Grant types, scopes and the
ID token algorithm default as for clients of the config file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := call(cmd.Context(), g, adminapi.ClientAdd, in)
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "Added client %s.\n\n", out.Client.ID)
				printClient(w, out.Client)
				if out.Secret != "" {
					fmt.Fprintln(w)
					printSecret(w, out.Secret)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.ID, "id", "", "client id (required)")
	f.StringVar(&in.Name, "name", "", "name shown to members (default: the id)")
	f.StringArrayVar(&in.RedirectURIs, "redirect-uri", nil, "redirect URI (repeatable)")
	f.StringArrayVar(&in.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI (repeatable)")
	f.BoolVar(&in.Public, "public", false, "public client (no secret, PKCE required): apps and single-page sites")
	f.BoolVar(&in.ThirdParty, "third-party", false, "third-party client: members are asked for consent")
	f.StringArrayVar(&in.GrantTypes, "grant-type", nil,
		"authorization_code, refresh_token, client_credentials or urn:ietf:params:oauth:grant-type:device_code (repeatable)")
	f.StringArrayVar(&in.Scopes, "scope", nil, "scope the client may ask for (repeatable)")
	f.StringVar(&in.IDTokenAlg, "id-token-alg", "", "ID token signing algorithm: RS256, ES256 or PS256")
	f.StringVar(&in.LogoURI, "logo-uri", "", "logo shown on the consent page")
	f.StringVar(&in.PolicyURI, "policy-uri", "", "privacy policy linked from the consent page")
	f.StringVar(&in.TokenEndpointAuthMethod, "token-endpoint-auth-method", "",
		"client_secret_basic, client_secret_post, private_key_jwt (no secret: give --jwks, --jwks-file or --jwks-uri) or none")
	f.StringVar(&in.JWKS, "jwks", "", "the client's public keys, a JWK Set as JSON")
	f.StringVar(&in.JWKSURI, "jwks-uri", "", "https URL where the client publishes its public keys")
	f.BoolVar(&in.RequirePAR, "require-pushed-authorization-requests", false,
		"the client must push its authorization requests to /oauth/par first (RFC 9126)")
	f.BoolVar(&in.DPoPBoundAccessTokens, "dpop-bound-access-tokens", false,
		"every token request must carry a DPoP proof (RFC 9449): the client's tokens are bound to its key")
	f.StringVar(&in.Profile, "profile", "", `security profile: "" or fapi2 (FAPI 2.0: PAR, PKCE, DPoP, private_key_jwt, ES256/PS256)`)
	f.StringVar(&in.BackchannelLogoutURI, "backchannel-logout-uri", "",
		"https URL where the client takes logout tokens when a session it was given a code from ends (Back-Channel Logout 1.0)")
	f.BoolVar(&in.BackchannelLogoutSessionRequired, "backchannel-logout-session-required", false,
		"the client needs sid in its logout tokens (always sent); needs --backchannel-logout-uri")
	jwksFile := f.String("jwks-file", "", "file holding the client's public keys, a JWK Set as JSON")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error { return readJWKSFile(cmd, &in, *jwksFile) }
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

// readJWKSFile reads --jwks-file into the client's jwks, after checking
// that the keys are given one way only.
func readJWKSFile(cmd *cobra.Command, in *adminapi.ClientInput, name string) error {
	n := 0
	for _, f := range []string{"jwks", "jwks-file", "jwks-uri"} {
		if cmd.Flags().Changed(f) {
			n++
		}
	}
	if n > 1 {
		return usageError{fmt.Errorf("give the client's keys one way: --jwks, --jwks-file or --jwks-uri")}
	}
	if name == "" {
		return nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return usageError{fmt.Errorf("--jwks-file: %w", err)}
	}
	in.JWKS = string(b)
	return nil
}

func clientType(c adminapi.ClientView) string {
	t := "confidential"
	if c.Public {
		t = "public"
	}
	if c.ThirdParty {
		t += ", third-party"
	}
	return t
}

func printClient(w io.Writer, c adminapi.ClientView) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, orDash(v)) }
	row("ID", c.ID)
	row("Name", c.Name)
	row("Type", clientType(c))
	row("Defined in", c.Source)
	row("Redirect URIs", strings.Join(c.RedirectURIs, " "))
	row("Post-logout URIs", strings.Join(c.PostLogoutRedirectURIs, " "))
	row("Grant types", strings.Join(c.GrantTypes, " "))
	row("Scopes", strings.Join(c.Scopes, " "))
	row("ID token alg", c.IDTokenAlg)
	row("Logo URI", c.LogoURI)
	row("Policy URI", c.PolicyURI)
	if c.TokenEndpointAuthMethod != "" {
		row("Authentication", c.TokenEndpointAuthMethod)
	}
	row("Keys", clientKeys(c))
	if c.RequirePAR {
		row("Requests", "must be pushed (/oauth/par)")
	}
	if c.DPoPBoundAccessTokens {
		row("Tokens", "DPoP-bound (a proof with every token request)")
	}
	if c.Profile != "" {
		row("Profile", c.Profile)
	}
	if c.BackchannelLogoutURI != "" {
		row("Back-channel logout", c.BackchannelLogoutURI)
	}
	row("Created", formatTime(c.CreatedAt))
	row("Updated", formatTime(c.UpdatedAt))
	tw.Flush()
}

// clientKeys says where c's public keys are, not what they are.
func clientKeys(c adminapi.ClientView) string {
	switch {
	case c.JWKSURI != "":
		return c.JWKSURI
	case c.JWKS != "":
		return "inline JWK Set"
	}
	return ""
}

func printSecret(w io.Writer, secret string) {
	fmt.Fprintf(w, "Client secret: %s\n", secret)
	fmt.Fprintln(w, "Store it now: it is not shown again (only its hash is kept).")
}
