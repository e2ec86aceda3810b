package loginui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"text/template/parse"
	"tsubasa/storage"
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
	for name := range pageFuncs {
		m[name] = func() {}
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

// testLangs is the language set of a deployment that speaks every shipped
// language, in ui.languages' default order.
func testLangs(t *testing.T) (catalog, langSet) {
	t.Helper()
	cat, err := loadCatalogs(localeFS)
	if err != nil {
		t.Fatal(err)
	}
	langs, err := newLangSet([]string{"ja", "en", "zh-Hans", "zh-Hant", "ko"}, cat)
	if err != nil {
		t.Fatal(err)
	}
	return cat, langs
}

func TestNegotiate(t *testing.T) {
	_, langs := testLangs(t)
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
		{"ui_locales beats accept-language", []string{"ko"}, "", "zh-TW", "ko"},
		{"unsupported ui_locales falls through", []string{"fr"}, "", "en", "en"},
		{"unsupported everything", nil, "", "fr-FR", "ja"},
		{"zh-CN is Simplified", nil, "", "zh-CN,zh;q=0.9", "zh-Hans"},
		{"zh-SG is Simplified", nil, "", "zh-SG", "zh-Hans"},
		{"zh alone is Simplified", nil, "", "zh", "zh-Hans"},
		{"zh-TW is Traditional", nil, "", "zh-TW,zh;q=0.9,en;q=0.8", "zh-Hant"},
		{"zh-HK is Traditional", nil, "", "zh-HK", "zh-Hant"},
		{"zh-HK before a plain zh", nil, "", "zh-HK,zh;q=0.9,en;q=0.8", "zh-Hant"},
		{"zh-SG before a plain zh-TW", nil, "", "zh-SG,zh-TW;q=0.5", "zh-Hans"},
		{"zh-MO is Traditional", nil, "", "zh-MO", "zh-Hant"},
		{"ko-KR", nil, "", "ko-KR,ko;q=0.9,en-US;q=0.8", "ko"},
		{"ui_locales zh-TW", []string{"zh-TW"}, "", "ja", "zh-Hant"},
		{"ui_locales in script form", []string{"zh-Hans-CN"}, "", "", "zh-Hans"},
		{"cookie zh-Hant beats accept-language", nil, "zh-Hant", "ko-KR", "zh-Hant"},
		{"a later accept-language choice", nil, "", "fr-FR,de;q=0.9,ko;q=0.5", "ko"},
		{"garbage cookie falls through", nil, "zh-Hans; drop", "en", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/login", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: langCookie, Value: tt.cookie, Quoted: false})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := langs.negotiate(r, tt.uiLocales); got != tt.want {
				t.Errorf("negotiate = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNegotiateConfiguredLanguages: a deployment that names fewer
// languages never serves another, and its first one is the fallback.
func TestNegotiateConfiguredLanguages(t *testing.T) {
	cat, _ := testLangs(t)
	langs, err := newLangSet([]string{"en", "ko"}, cat)
	if err != nil {
		t.Fatal(err)
	}
	for accept, want := range map[string]string{"ja": "en", "zh-CN": "en", "ko-KR": "ko", "": "en", "en-AU": "en"} {
		r := httptest.NewRequest("GET", "/login", nil)
		r.Header.Set("Accept-Language", accept)
		if got := langs.negotiate(r, []string{"zh-Hant"}); got != want {
			t.Errorf("Accept-Language %q with ui_locales zh-Hant (not configured) = %q, want %q", accept, got, want)
		}
	}
}

// TestLangSetRefusesUnknown: a language without a catalog, or one named
// twice, is a start-up error that names it and what is shipped.
func TestLangSetRefusesUnknown(t *testing.T) {
	cat, _ := testLangs(t)
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"ja", "fr"}, `"fr" (shipped: ja, `},
		{[]string{"ja", "zh-CN"}, `"zh-CN"`},
		{[]string{"ja", "en", "ja"}, `"ja" is listed twice`},
	} {
		if _, err := newLangSet(tc.names, cat); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("newLangSet(%v) = %v, want an error with %s", tc.names, err, tc.want)
		}
	}
	if l, err := newLangSet(nil, cat); err != nil || len(l.names) != len(cat) || l.names[0] != "ja" {
		t.Errorf("no languages configured = %v, %v; want every shipped language, Japanese first", l.names, err)
	}
}

// TestShippedLanguages: the languages are the folders under locales/,
// each named by its canonical tag, Japanese first; a folder with another
// name is refused rather than silently unreachable.
func TestShippedLanguages(t *testing.T) {
	got := Shipped()
	for _, want := range []string{"ja", "en", "zh-Hans", "zh-Hant", "ko"} {
		if !slices.Contains(got, want) {
			t.Errorf("Shipped() = %v lacks %s", got, want)
		}
	}
	if got[0] != "ja" {
		t.Errorf("Shipped()[0] = %q, want ja", got[0])
	}
	bad := fstest.MapFS{"locales/zh_TW/common.json": {Data: []byte(`{}`)}}
	if _, err := shippedIn(bad); err == nil || !strings.Contains(err.Error(), "zh_TW") {
		t.Errorf("a folder named zh_TW: %v, want an error naming it", err)
	}
}

// TestLangSwitchCanonical: ?lang= remembers the configured spelling of
// the language asked for, and ignores what no configured language matches.
func TestLangSwitchCanonical(t *testing.T) {
	cat, langs := testLangs(t)
	u := &UI{cat: cat, langs: langs}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("a ?lang= request must redirect") })
	for in, want := range map[string]string{"zh-TW": "zh-Hant", "zh-hans": "zh-Hans", "ko": "ko", "fr": "", "<script>": ""} {
		w := httptest.NewRecorder()
		u.LangSwitch(next).ServeHTTP(w, httptest.NewRequest("GET", "/login?authRequestID=x&lang="+url.QueryEscape(in), nil))
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?authRequestID=x" {
			t.Errorf("lang=%s: %d to %q, want 303 to the same page without lang", in, w.Code, w.Header().Get("Location"))
		}
		got := ""
		for _, c := range w.Result().Cookies() {
			if c.Name == langCookie {
				got = c.Value
			}
		}
		if got != want {
			t.Errorf("lang=%s: cookie %q, want %q", in, got, want)
		}
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
	cat, langs := testLangs(t)
	u := &UI{cat: cat, langs: langs}
	r := httptest.NewRequest("POST", "/login", strings.NewReader("authRequestID=abc&member_number=1234567"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := u.newPage(r, "ja", "login.title")
	for _, l := range p.Switch {
		if !strings.Contains(l.URL, "authRequestID=abc") || strings.Contains(l.URL, "member_number") {
			t.Errorf("switch link %q must keep the request and nothing else of the form", l.URL)
		}
	}
	if len(p.Switch) != len(langs.names) {
		t.Errorf("%d languages in the menu, want %d", len(p.Switch), len(langs.names))
	}
}

var verbRe = regexp.MustCompile(`%(\[\d+\])?[sdvq]`)

// TestCatalogPlaceholders: a translation takes the same values as the
// Japanese reference, each as often and of the same kind (an explicit
// index may reorder them), so no message prints %!d(string=…) or drops
// a number a member needs.
func TestCatalogPlaceholders(t *testing.T) {
	cat, err := loadCatalogs(localeFS)
	if err != nil {
		t.Fatal(err)
	}
	verbs := func(s string) []string {
		var out []string
		next := 1
		for _, m := range verbRe.FindAllStringSubmatch(s, -1) {
			idx := next
			if m[1] != "" {
				idx = int(m[1][1] - '0')
			}
			next = idx + 1
			out = append(out, string(rune('0'+idx))+m[0][len(m[0])-1:])
		}
		slices.Sort(out)
		return out
	}
	for lang, m := range cat {
		for k, v := range m {
			if want, got := verbs(cat["ja"][k]), verbs(v); !slices.Equal(want, got) {
				t.Errorf("%s: %s takes %v, the Japanese %v", lang, k, got, want)
			}
		}
	}
}

// TestRenderEveryLanguage: the core pages render in every shipped
// language with <html lang> naming it, the menu listing every language
// in itself with the current one marked, and no catalog key left showing.
func TestRenderEveryLanguage(t *testing.T) {
	u, err := New(Options{CookieKey: make([]byte, 32), Brand: Brand{Name: "Sora", SupportURL: "https://help.example/",
		PrivacyURL: "https://sora.example/privacy", TermsURL: "https://sora.example/terms"}})
	if err != nil {
		t.Fatal(err)
	}
	rawKey := regexp.MustCompile(`\b(common|login|error|logged_out|reset|passkey)\.[a-z_.]+\b`)
	for _, lang := range Shipped() {
		for _, tc := range []struct {
			name string
			do   func(w http.ResponseWriter, r *http.Request)
		}{
			{"login", func(w http.ResponseWriter, r *http.Request) {
				u.renderLogin(w, r, storage.AuthRequest{ID: "ar-1", ClientID: "web"}, http.StatusOK, "", "login.error.invalid", nil)
			}},
			{"error", func(w http.ResponseWriter, r *http.Request) {
				u.renderError(w, r, http.StatusBadRequest, "error.request_expired")
			}},
			{"logged out", u.loggedOut},
		} {
			r := httptest.NewRequest("GET", "/login", nil)
			r.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
			w := httptest.NewRecorder()
			tc.do(w, r)
			body := w.Body.String()
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s in %s: no <html lang=%q>", tc.name, lang, lang)
			}
			if k := rawKey.FindString(body); k != "" {
				t.Errorf("%s in %s shows the key %s", tc.name, lang, k)
			}
			for _, other := range Shipped() {
				name := u.cat.T(other, "common.language_name")
				if !strings.Contains(body, `lang="`+other+`" hreflang="`+other+`">`+name+`</a>`) && !(other == lang && strings.Contains(body, `<span aria-current="true" lang="`+lang+`">`+name+`</span>`)) {
					t.Errorf("%s in %s: the menu does not offer %s as %q", tc.name, lang, other, name)
				}
			}
			for _, link := range []string{"https://help.example/", "https://sora.example/privacy", "https://sora.example/terms"} {
				if !strings.Contains(body, `href="`+link+`"`) {
					t.Errorf("%s in %s: the footer lacks %s", tc.name, lang, link)
				}
			}
		}
	}
}
