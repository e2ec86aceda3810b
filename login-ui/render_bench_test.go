package loginui

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"tsubasa/storage"
)

// Page rendering is on every login: the login page for each fresh browser,
// the error page for every refused request. These render the real embedded
// templates and catalogs, into a writer that drops the bytes.
//
//	go test -run '^$' -bench Render -count 6 ./login-ui | tee new.txt; benchstat old.txt new.txt

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchUI(b *testing.B) *UI {
	b.Helper()
	u, err := New(Options{CookieKey: bytes.Repeat([]byte("k"), 32), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return u
}

func BenchmarkRenderLogin(b *testing.B) {
	u := benchUI(b)
	req := storage.AuthRequest{ID: "ar-0123456789abcdef0123456789abcdef", ClientID: "web"}
	for _, lang := range []string{"ja", "en"} {
		b.Run(lang, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/login?authRequestID="+req.ID, nil)
			r.Header.Set("Accept-Language", lang)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				u.renderLogin(w, r, req, http.StatusOK, "", "", nil)
			}
		})
	}
	b.Run("with-error", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			u.renderLogin(w, r, req, http.StatusUnauthorized, "1234567", "login.error.invalid", nil)
		}
	})
}

func BenchmarkRenderError(b *testing.B) {
	u := benchUI(b)
	r := httptest.NewRequest(http.MethodGet, "/authorize?client_id=nope", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		u.RenderError(w, r, http.StatusBadRequest, "error.client", "redirect_uri: https://evil.example/cb")
	}
}
