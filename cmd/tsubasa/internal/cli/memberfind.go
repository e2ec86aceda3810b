package cli

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"tsubasa/provider/admin/adminapi"
)

// newMemberFindCmd finds members by email address or mobile number.
func newMemberFindCmd(g *globals, p *printer) *cobra.Command {
	var in adminapi.MemberFindInput
	cmd := &cobra.Command{
		Use:   "find (--email ADDRESS | --phone NUMBER [--country CC])",
		Short: "Find members by email address or mobile number (exact match)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (in.Email == "") == (in.Phone == "") {
				return usageError{errors.New("give either --email or --phone")}
			}
			out, err := call(cmd.Context(), g, adminapi.MemberFind, in)
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) {
				if len(out.Members) == 0 {
					fmt.Fprintln(w, "No member has that contact.")
					return
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tEMAIL\tPHONE\tSTATUS")
				for _, m := range out.Members {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Number, orDash(m.FamilyName+" "+m.GivenName),
						orDash(m.Email), orDash(m.Phone), m.Status)
				}
				_ = tw.Flush()
				if out.Truncated {
					fmt.Fprintf(w, "Only the first %d are shown.\n", adminapi.MaxMembersFound)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Email, "email", "", "email address")
	f.StringVar(&in.Phone, "phone", "", "mobile number (E.164, or national for --country)")
	f.StringVar(&in.Country, "country", "", "country of a national phone number, ISO 3166-1 alpha-2 (default JP)")
	cmd.MarkFlagsMutuallyExclusive("email", "phone")
	return cmd
}
