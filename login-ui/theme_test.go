package loginui

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestThemeCSS(t *testing.T) {
	for _, tt := range []struct{ colour, want string }{
		{"#8b0000", "--brand: #8b0000;"},
		{"#abc", "--brand: #abc;"},
		{"red; } body { display:none", "--brand: #0b3d91;"}, // never echoes unvalidated input
		{"", "--brand: #0b3d91;"},
	} {
		u := &UI{opts: Options{Brand: Brand{PrimaryColor: tt.colour}}}
		w := httptest.NewRecorder()
		u.themeCSS(w, httptest.NewRequest("GET", "/theme.css", nil))
		if got := w.Body.String(); !strings.Contains(got, tt.want) || strings.Contains(got, "display") {
			t.Errorf("colour %q: css %q, want %q", tt.colour, got, tt.want)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
			t.Errorf("content type %q", ct)
		}
	}
}
