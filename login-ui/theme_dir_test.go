package loginui

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsubasa/storage"
)

// extraPage is a feature that needs one more page, as a feature's own
// pages are added.
type extraPage string

func (p extraPage) register(u *UI) error {
	u.pageNames = append(u.pageNames, string(p))
	return nil
}

// writeTheme lays out a theme directory: path → content.
func writeTheme(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func themedUI(t *testing.T, dir string, features ...Feature) (*UI, error) {
	t.Helper()
	return New(Options{CookieKey: bytes.Repeat([]byte("k"), 32), ThemeDir: dir, Features: features, Logger: slog.New(slog.DiscardHandler)})
}

// TestThemeDirOverridesPagesAndStatic: a theme directory replaces the
// pages and static files it has (here the login page and the stylesheet)
// and leaves the others, and the layout, as embedded.
func TestThemeDirOverridesPagesAndStatic(t *testing.T) {
	dir := writeTheme(t, map[string]string{
		"templates/login.html": `{{define "content"}}<form method="post" action="/login" class="themed-login">` +
			`<input type="hidden" name="authRequestID" value="{{.AuthRequestID}}"><button type="submit">{{.T "login.submit"}}</button></form>{{end}}`,
		"static/style.css": "/* programme theme */ body { background: #fffbea; }\n",
	})
	u, err := themedUI(t, dir)
	if err != nil {
		t.Fatalf("start-up with a theme: %v", err)
	}
	r := httptest.NewRequest(http.MethodGet, "/login?authRequestID=ar-1", nil)
	r.Header.Set("Accept-Language", "en")
	w := httptest.NewRecorder()
	u.renderLogin(w, r, storage.AuthRequest{ID: "ar-1", ClientID: "web"}, http.StatusOK, "", "", nil)
	body := w.Body.String()
	for _, want := range []string{`class="themed-login"`, `value="ar-1"`, ">Log in</button>", `<nav class="lang"`, `<h1>Member login</h1>`} {
		if !strings.Contains(body, want) {
			t.Errorf("themed login page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, `id="member_number"`) {
		t.Error("the embedded login form still shows under the theme's")
	}

	srv := httptest.NewServer(u.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, css := get("/static/style.css"); code != http.StatusOK || !strings.Contains(css, "programme theme") {
		t.Errorf("/static/style.css: %d %q, want the theme's", code, css)
	}
	embedded, _ := staticFS.ReadFile("static/otp.css")
	if code, css := get("/static/otp.css"); code != http.StatusOK || css != string(embedded) {
		t.Errorf("/static/otp.css: %d, want the embedded file (the theme has none)", code)
	}
	// Pages the theme does not override render as embedded.
	w = httptest.NewRecorder()
	u.RenderError(w, httptest.NewRequest(http.MethodGet, "/authorize", nil), http.StatusBadRequest, "error.client", "")
	if !strings.Contains(w.Body.String(), `<div class="card">`) {
		t.Errorf("error page under a theme:\n%s", w.Body.String())
	}
}

// TestThemeDirStillFailsStartUp: a theme cannot hide a missing page, and a
// broken themed page fails start-up naming the page, as embedded ones do.
func TestThemeDirStillFailsStartUp(t *testing.T) {
	theme := writeTheme(t, map[string]string{"static/style.css": "body {}\n"})
	if _, err := themedUI(t, theme, extraPage("boarding_pass")); err == nil || !strings.Contains(err.Error(), "page boarding_pass") {
		t.Errorf("a page in neither the theme nor the embedded files: %v, want a start-up error naming it", err)
	}
	// The theme may supply the page itself.
	withPage := writeTheme(t, map[string]string{"templates/boarding_pass.html": `{{define "content"}}<p>{{.T "login.title"}}</p>{{end}}`})
	if _, err := themedUI(t, withPage, extraPage("boarding_pass")); err != nil {
		t.Errorf("a page the theme supplies: %v", err)
	}
	broken := writeTheme(t, map[string]string{"templates/error.html": `{{define "content"}}<p>{{.T "error.title"}</p>{{end}}`})
	if _, err := themedUI(t, broken); err == nil || !strings.Contains(err.Error(), "page error") {
		t.Errorf("a broken themed page: %v, want a start-up error naming it", err)
	}
}
