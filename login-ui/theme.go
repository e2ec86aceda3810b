package loginui

import (
	"fmt"
	"net/http"
	"regexp"
)

var colourRe = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}){1,2}$`)

// themeCSS serves the brand colour from config as a stylesheet: CSP allows
// no inline style, so configuration reaches the pages this way.
func (u *UI) themeCSS(w http.ResponseWriter, _ *http.Request) {
	colour := u.opts.Brand.PrimaryColor
	if !colourRe.MatchString(colour) {
		colour = "#0b3d91"
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	fmt.Fprintf(w, ":root { --brand: %s; }\n", colour)
}
