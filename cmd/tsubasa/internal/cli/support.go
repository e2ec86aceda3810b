package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"tsubasa/provider/admin/adminapi"
)

// newMemberSupportCmd is `tsubasa member support start|show|verify`: the
// support session by which an agent proves that the member is on the
// line, through the same admin operations as the HTTP API's
// /members/{number}/support-sessions.
func newMemberSupportCmd(g *globals, p *printer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "support",
		Short: "Prove that a member is on the line: send a code, enter the code read back",
		Long: `A support session sends the member a one-time code on their own verified
channel (the one they chose for one-time passwords). The member reads it
back and you enter it with "verify". A verified session is what
set-password --support-session names when the server requires one
(admin.support.require_verified_session, over --server). The code is never
shown to you: only the member has it.`,
	}
	show := func(w io.Writer, v adminapi.SupportSessionView) {
		fmt.Fprintf(w, "Support session %s with member %s: %s.\n", v.ID, v.Number, v.State)
		fmt.Fprintf(w, "Code sent by %s to %s; it expires at %s.\n", v.Channel, v.Destination, v.ExpiresAt.Local().Format(time.DateTime))
		switch v.State {
		case adminapi.SupportPending:
			fmt.Fprintf(w, "Ask the member to read it back, then: tsubasa member support verify %s %s --code CODE (%d entries left)\n",
				v.Number, v.ID, v.AttemptsLeft)
		case adminapi.SupportVerified:
			fmt.Fprintf(w, "Verified until %s.\n", v.VerifiedUntil.Local().Format(time.DateTime))
		}
	}
	var code string
	verify := &cobra.Command{
		Use:   "verify NUMBER SESSION --code CODE",
		Short: "Enter the code the member read back",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if code == "" {
				return usageError{errors.New("give --code, the code the member read back")}
			}
			out, err := call(cmd.Context(), g, adminapi.MemberSupportVerify, adminapi.SupportVerifyInput{Number: args[0], ID: args[1], Code: code})
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) { show(w, out) })
		},
	}
	verify.Flags().StringVar(&code, "code", "", "the code the member read back")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "start NUMBER",
			Short: "Send the member a support code on their verified channel",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				out, err := call(cmd.Context(), g, adminapi.MemberSupportStart, adminapi.SupportStartInput{Number: args[0]})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) { show(w, out) })
			},
		},
		&cobra.Command{
			Use:   "show NUMBER SESSION",
			Short: "Show a support session's state (never its code)",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				out, err := call(cmd.Context(), g, adminapi.MemberSupportShow, adminapi.SupportSessionInput{Number: args[0], ID: args[1]})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) { show(w, out) })
			},
		},
		verify,
	)
	return cmd
}
