package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"tsubasa/provider/admin/adminapi"
)

// newMemberDeleteCmd erases a member. It reads the member first and
// erases exactly what it read (If-Match with the version it showed), and
// asks for the number again on a terminal unless --yes: erasure cannot be
// undone, and a script must say so with --yes.
func newMemberDeleteCmd(g *globals, p *printer) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NUMBER [--yes]",
		Short: "Erase a member and everything stored about them (cannot be undone)",
		Long: `Erase a member: the member record, their credentials, passkeys, sessions
(relying parties are sent back-channel logouts), tokens (revoked), linked
apps, devices, one-time passwords, support sessions, queued mail and SMS
and their audit events. One audit event stays, the tombstone: the member's
id, the time and who erased them, nothing more. The member number can then
be given to a new member.

Without --yes, the command asks you to type the member number again, and
refuses when standard input is not a terminal.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := call(cmd.Context(), g, adminapi.MemberShow, adminapi.NumberInput{Number: args[0]})
			if err != nil {
				return err
			}
			if !yes {
				if err := confirmErase(cmd.InOrStdin(), cmd.ErrOrStderr(), m); err != nil {
					return err
				}
			}
			out, err := call(cmd.Context(), g, adminapi.MemberDelete,
				adminapi.MemberDeleteInput{Number: m.ID, IfMatch: m.Version})
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "Erased member %s: ended %d sessions, revoked %d tokens, deleted %d records.\n",
					m.Number, out.EndedSessions, out.RevokedTokens, out.Records)
				fmt.Fprintf(w, "Tombstone event %s kept under member id %s.\n", out.Tombstone, out.ID)
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "erase without asking (for scripts)")
	return cmd
}

// confirmErase asks for the member number again on a terminal, and
// refuses anywhere else.
func confirmErase(in io.Reader, out io.Writer, m adminapi.MemberView) error {
	if f, ok := in.(*os.File); !ok || !isTerminal(f) {
		return usageError{fmt.Errorf("refusing to erase member %s without --yes: standard input is not a terminal to confirm on", m.Number)}
	}
	fmt.Fprintf(out, "Erase member %s (%s %s)? This cannot be undone.\nType the member number to confirm: ",
		m.Number, m.FamilyName, m.GivenName)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if strings.TrimSpace(line) != m.Number {
		return usageError{fmt.Errorf("not erased: %q is not member number %s", strings.TrimSpace(line), m.Number)}
	}
	return nil
}

// isTerminal reports whether f is a terminal (not merely a character
// device: /dev/null is one, and a script's input must not confirm).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
