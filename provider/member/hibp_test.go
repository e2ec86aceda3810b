package member

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// rangeServer fakes the range API: it answers for the prefixes of the
// given passwords with their suffixes and counts, plus padding lines.
func rangeServer(t *testing.T, counts map[string]int) (*httptest.Server, *[]*http.Request) {
	t.Helper()
	var mu sync.Mutex
	var reqs []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r)
		mu.Unlock()
		prefix, ok := strings.CutPrefix(r.URL.Path, "/range/")
		if !ok || len(prefix) != 5 {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n")
		for pw, n := range counts {
			sum := sha1.Sum([]byte(pw))
			d := strings.ToUpper(hex.EncodeToString(sum[:]))
			if d[:5] == prefix {
				fmt.Fprintf(w, "%s:%d\r\n", d[5:], n)
			}
		}
		fmt.Fprintf(w, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0\r\n")
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs
}

func TestHIBP(t *testing.T) {
	srv, reqs := rangeServer(t, map[string]int{"hunter2-but-longer": 42, "padded-only": 0})
	var logs bytes.Buffer
	c := NewHIBPChecker(srv.URL, srv.Client(), slog.New(slog.NewTextHandler(&logs, nil)))
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"hunter2-but-longer", true},
		{"never-seen-Before-9", false},
		{"padded-only", false}, // count 0 is padding, not a breach
	} {
		got, err := c.Breached(t.Context(), tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("Breached(%q) = %v, %v; want %v", tc.pw, got, err, tc.want)
		}
	}
	for _, r := range *reqs {
		if r.Header.Get("Add-Padding") != "true" {
			t.Errorf("request without Add-Padding: %v", r.Header)
		}
		if len(r.URL.Path) != len("/range/ABCDE") {
			t.Errorf("path %q sends more than the 5-character prefix", r.URL.Path)
		}
	}
	if logs.Len() != 0 {
		t.Errorf("unexpected log: %s", logs.String())
	}
}

func TestHIBPFailsOpen(t *testing.T) {
	const pw = "Secret-Password-1"
	sum := sha1.Sum([]byte(pw))
	digest := strings.ToUpper(hex.EncodeToString(sum[:]))

	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	}))
	defer broken.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()

	for _, tc := range []struct {
		name   string
		url    string
		client *http.Client
	}{
		{"server down", downURL, nil},
		{"server error", broken.URL, nil},
		{"timeout", slow.URL, &http.Client{Timeout: 50 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := NewHIBPChecker(tc.url, tc.client, slog.New(slog.NewTextHandler(&logs, nil)))
			got, err := c.Breached(t.Context(), pw)
			if got || err != nil {
				t.Errorf("Breached = %v, %v; want false, nil (fail open)", got, err)
			}
			out := logs.String()
			if !strings.Contains(out, "level=WARN") {
				t.Errorf("no warning logged: %q", out)
			}
			if strings.Contains(out, pw) || strings.Contains(out, digest[:5]) {
				t.Errorf("log leaks the password or its hash: %q", out)
			}
		})
	}
}
