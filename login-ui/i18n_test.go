package loginui

import (
	"io/fs"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	cat, err := loadCatalogs(localeFS)
	if err != nil {
		t.Fatal(err)
	}
	if miss := cat.missing(); len(miss) > 0 {
		t.Fatalf("keys missing from a catalog:\n%s", strings.Join(miss, "\n"))
	}
	for lang, m := range cat {
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %s is empty", lang, k)
			}
		}
	}
}

var tagRe = regexp.MustCompile(`<[^>]*>|&[a-z]+;|&#[0-9]+;`)

// TestTemplatesUseOnlyCatalogText fails on any letter in a template that does
// not come from a catalog (or from data): every word a member reads must be
// translatable.
func TestTemplatesUseOnlyCatalogText(t *testing.T) {
	cat, _ := loadCatalogs(localeFS)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatal("no templates")
	}
	keyRe := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	for _, f := range files {
		b, _ := fs.ReadFile(templateFS, f)
		trees, err := parse.Parse(f, string(b), "{{", "}}", builtins)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tree := range trees {
			// Rebuild the markup with actions as a placeholder, so tags that
			// contain actions are stripped whole, then look for letters.
			var sb strings.Builder
			walk(tree.Root, func(text string) { sb.WriteString(text) }, func() { sb.WriteString("\x00") })
			for _, chunk := range strings.Split(tagRe.ReplaceAllString(sb.String(), " "), "\x00") {
				for _, r := range chunk {
					if unicode.IsLetter(r) {
						t.Errorf("%s: text outside the catalogs: %q", f, strings.TrimSpace(chunk))
						break
					}
				}
			}
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			for lang := range cat {
				if _, ok := cat[lang][m[1]]; !ok {
					t.Errorf("%s uses key %q missing from the %s catalog", f, m[1], lang)
				}
			}
		}
	}
}

// builtins are text/template's predefined functions, for parsing alone.
var builtins = func() map[string]any {
	m := map[string]any{}
	for _, name := range []string{"and", "or", "not", "len", "index", "slice", "print", "printf", "println",
		"html", "js", "urlquery", "call", "eq", "ne", "lt", "le", "gt", "ge"} {
		m[name] = func() {} // parse only checks that a function exists
	}
	return m
}()

func walk(n parse.Node, text func(string), action func()) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, text, action)
		}
	case *parse.TextNode:
		text(string(n.Text))
	case *parse.IfNode:
		action()
		walk(n.List, text, action)
		walk(n.ElseList, text, action)
	case *parse.RangeNode:
		action()
		walk(n.List, text, action)
		walk(n.ElseList, text, action)
	case *parse.WithNode:
		action()
		walk(n.List, text, action)
		walk(n.ElseList, text, action)
	default:
		action()
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name      string
		uiLocales []string
		cookie    string
		accept    string
		want      string
	}{
		{"default is Japanese", nil, "", "", "ja"},
		{"accept-language", nil, "", "en-GB,en;q=0.9", "en"},
		{"cookie beats accept-language", nil, "ja", "en-US", "ja"},
		{"ui_locales beats cookie", []string{"en"}, "ja", "ja", "en"},
		{"unsupported ui_locales falls through", []string{"fr"}, "", "en", "en"},
		{"unsupported everything", nil, "", "fr-FR", "ja"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/login", nil)
			if tt.cookie != "" {
				r.Header.Set("Cookie", langCookie+"="+tt.cookie)
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := negotiate(r, tt.uiLocales); got != tt.want {
				t.Errorf("negotiate = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLocalPath(t *testing.T) {
	tests := map[string]string{
		"/account":                "/account",
		"/account/contacts?x=1":   "/account/contacts?x=1",
		"https://evil.example/":   "/account",
		"//evil.example/account":  "/account",
		"/login":                  "/account",
		"/account/../admin":       "/account",
		"javascript:alert(1)":     "/account",
		"/accounting/../../steal": "/account",
	}
	for in, want := range tests {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSwitchLinksAfterPost: the language links of a page that answers a
// form post keep the authorization request, so switching stays in the flow.
func TestSwitchLinksAfterPost(t *testing.T) {
	u := &UI{}
	r := httptest.NewRequest("POST", "/login", strings.NewReader("authRequestID=abc&member_number=1234567"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := u.newPage(r, "ja", "login.title")
	for _, l := range p.Switch {
		if !strings.Contains(l.URL, "authRequestID=abc") || strings.Contains(l.URL, "member_number") {
			t.Errorf("switch link %q must keep the request and nothing else of the form", l.URL)
		}
	}
}
