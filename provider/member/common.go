package member

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswords is a list of well-known passwords (top passwords of public
// breach statistics, keyboard walks, digit runs, and club/travel words with
// the usual suffixes), one lower-case entry a line. gen_common.go writes it.
//
//go:generate go run gen_common.go
//go:embed common_passwords.txt
var commonPasswords string

var commonSet = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 8192)
	for _, line := range strings.Split(commonPasswords, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			set[line] = struct{}{}
		}
	}
	return set
})

// isCommon reports whether folded (see foldForMatch) is on the list.
func isCommon(folded string) bool {
	_, ok := commonSet()[folded]
	return ok
}
