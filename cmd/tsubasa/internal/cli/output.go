package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// printer writes a result as JSON (--json) or for people.
type printer struct {
	g    *globals
	json bool
}

// addOutputFlag gives cmd and its subcommands --json.
func addOutputFlag(cmd *cobra.Command, g *globals) *printer {
	p := &printer{g: g}
	cmd.PersistentFlags().BoolVar(&p.json, "json", false, "print JSON for scripts instead of text")
	return p
}

func (p *printer) print(v any, human func(w io.Writer)) error {
	if p.json {
		enc := json.NewEncoder(p.g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human(p.g.stdout)
	return nil
}

func table(w io.Writer, headers ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	return tw
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
