package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
)

func newMemberCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member",
		Short: "Create, show, enable and disable members",
		Long: `Manage member accounts. With a server running, commands go through its
admin socket; otherwise they open the database file directly.`,
	}
	p := addOutputFlag(cmd, g)
	status := func(use, short string, op adminapi.Op[adminapi.NumberInput, adminapi.MemberView]) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NUMBER",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				out, err := call(cmd.Context(), g, op, adminapi.NumberInput{Number: args[0]})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) {
					fmt.Fprintf(w, "Member %s is now %s.", out.Number, out.Status)
					if out.EndedSessions+out.RevokedTokens > 0 {
						fmt.Fprintf(w, " Ended %d sessions, revoked %d tokens.", out.EndedSessions, out.RevokedTokens)
					}
					fmt.Fprintln(w)
				})
			},
		}
	}
	cmd.AddCommand(
		newMemberCreateCmd(g, p),
		&cobra.Command{
			Use:   "show NUMBER",
			Short: "Show a member (never credential hashes)",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				out, err := call(cmd.Context(), g, adminapi.MemberShow, adminapi.NumberInput{Number: args[0]})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) { printMember(w, out) })
			},
		},
		status("disable", "Disable a member: ends their sessions and revokes their tokens", adminapi.MemberDisable),
		status("enable", "Enable a member again and clear login lockouts", adminapi.MemberEnable),
		newMemberPasswordCmd(g, p),
		newMemberImportCmd(g, p),
		newMemberSupportCmd(g, p),
		newMemberDeleteCmd(g, p),
		newMemberFindCmd(g, p),
	)
	return cmd
}

func newMemberCreateCmd(g *globals, p *printer) *cobra.Command {
	var in adminapi.MemberInput
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "create --number NUMBER --family-name NAME [flags]",
		Short: "Create a member",
		Long: `Create a member. Email and phone given here count as verified: the
operator vouches for them. A password must meet the password policy; a
member with only a PIN must set a password at the next web login.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fromStdin {
				pw, err := readPassword(cmd.InOrStdin())
				if err != nil {
					return err
				}
				in.Password = pw
			}
			out, err := call(cmd.Context(), g, adminapi.MemberCreate, in)
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "Created member %s.\n\n", out.Number)
				printMember(w, out)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Number, "number", "", "member number, 7 or 9 digits (required)")
	f.StringVar(&in.Password, "password", "", "password (visible to other local users; prefer --password-stdin)")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&in.PIN, "pin", "", "legacy 6-digit PIN")
	f.StringVar(&in.FamilyName, "family-name", "", "family name as written (kanji, kana …)")
	f.StringVar(&in.GivenName, "given-name", "", "given name as written")
	f.StringVar(&in.FamilyNameLatin, "family-name-latin", "", "family name in Latin letters (passport form)")
	f.StringVar(&in.GivenNameLatin, "given-name-latin", "", "given name in Latin letters (passport form)")
	f.StringVar(&in.Email, "email", "", "email address")
	f.StringVar(&in.Phone, "phone", "", "mobile phone number (E.164, or national for --country)")
	f.StringVar(&in.Country, "country", "", "country of residence, ISO 3166-1 alpha-2 (e.g. JP)")
	f.StringVar(&in.Locale, "locale", "", "preferred language: ja (default), en, zh-Hans, zh-Hant or ko, or a tag naming one (zh-TW, ko-KR)")
	_ = cmd.MarkFlagRequired("number")
	cmd.MarkFlagsMutuallyExclusive("password", "password-stdin")
	return cmd
}

func newMemberPasswordCmd(g *globals, p *printer) *cobra.Command {
	var in adminapi.PasswordInput
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "set-password NUMBER (--password PASSWORD | --password-stdin)",
		Short: "Set a member's password (ends every session of the member and revokes every token)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Number = args[0]
			if fromStdin {
				pw, err := readPassword(cmd.InOrStdin())
				if err != nil {
					return err
				}
				in.Password = pw
			}
			if in.Password == "" {
				return usageError{errors.New("give --password or --password-stdin")}
			}
			out, err := call(cmd.Context(), g, adminapi.MemberPassword, in)
			if err != nil {
				return err
			}
			return p.print(struct {
				Number string `json:"number"`
				adminapi.PasswordOutput
			}{in.Number, out}, func(w io.Writer) {
				fmt.Fprintf(w, "Password of member %s changed. Every session of the member ended (%d) and every token was revoked (%d stored; access tokens issued before are refused too).\n",
					in.Number, out.EndedSessions, out.RevokedTokens)
			})
		},
	}
	cmd.Flags().StringVar(&in.Password, "password", "", "new password (visible to other local users; prefer --password-stdin)")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	cmd.Flags().StringVar(&in.SupportSession, "support-session", "",
		"a support session verified for the member (tsubasa member support), which the server may require over --server")
	cmd.MarkFlagsMutuallyExclusive("password", "password-stdin")
	return cmd
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{errors.New("standard input held no password")}
	}
	return line, nil
}

func newMemberImportCmd(g *globals, p *printer) *cobra.Command {
	var verified bool
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import members from a CSV file",
		Long: `Import members from CSV with a header row naming the columns:
` + strings.Join(member.ImportColumns, ", ") + `.
number is required, and password_hash (argon2id or bcrypt) or pin. Numbers
that are already members are skipped, so an import can be re-run. Rows that
fail are listed with their line and not written.

Hashing PINs is slow by design: import while the server is stopped when you
can; through a running server the import competes with logins.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			body := func() (io.Reader, error) {
				_, err := f.Seek(0, io.SeekStart)
				return f, err
			}
			out, err := send(cmd.Context(), g, adminapi.MemberImport, adminapi.ImportInput{ContactsVerified: verified}, body)
			if err != nil {
				return err
			}
			if err := p.print(out, func(w io.Writer) { printImport(w, out) }); err != nil {
				return err
			}
			if len(out.Errors) > 0 {
				return fmt.Errorf("%d rows were not imported", len(out.Errors))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&verified, "contacts-verified", false, "mark imported email addresses and phone numbers as verified")
	return cmd
}

func printImport(w io.Writer, r adminapi.ImportResult) {
	fmt.Fprintf(w, "Created %d members; skipped %d already present; %d rows refused.\n",
		r.Created, r.Skipped, len(r.Errors))
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  line %d: %s\n", e.Line, e.Reason)
	}
}

func printMember(w io.Writer, m adminapi.MemberView) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, orDash(v)) }
	verified := func(v string, ok bool) string {
		if v == "" || !ok {
			return v
		}
		return v + " (verified)"
	}
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	row("Number", m.Number)
	row("Name", strings.TrimSpace(m.FamilyName+" "+m.GivenName))
	row("Latin name", strings.TrimSpace(m.FamilyNameLatin+" "+m.GivenNameLatin))
	row("Email", verified(m.Email, m.EmailVerified))
	row("Phone", verified(m.Phone, m.PhoneVerified))
	if m.SMSRefused != "" {
		row("SMS codes", "never sent to this number: "+m.SMSRefused)
	}
	row("Country", m.Country)
	row("Locale", m.Locale)
	row("Status", m.Status)
	row("OTP channel", m.OTPChannel)
	row("Has password", yesNo(m.HasPassword))
	row("Has PIN", yesNo(m.HasPIN))
	if m.MustChangePassword {
		row("Must change password", "yes")
	}
	row("Created", formatTime(m.CreatedAt))
	row("Updated", formatTime(m.UpdatedAt))
	tw.Flush()
}
