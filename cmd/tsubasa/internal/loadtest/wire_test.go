package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLeanExchange(t *testing.T) {
	var fail atomic.Bool
	srv := fakeOP(t, &fail)
	ctx := t.Context()
	l, err := newLoader(ctx, Options{Issuer: srv.URL, Concurrency: 1, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(l, 0)
	defer w.closeLean()
	for range 3 {
		if err := scenarios["discovery"].run(ctx, w); err != nil {
			t.Fatal(err)
		}
		srv.CloseClientConnections() // idle: replaced without an error
	}
	slow := l.newCall(http.MethodGet, srv.URL+"/slow")
	start := time.Now()
	if _, err := w.send(ctx, slow, "", ""); err == nil || time.Since(start) > 500*time.Millisecond {
		t.Errorf("past the timeout: %v after %v", err, time.Since(start))
	}
	ctx2, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	w.l.o.Timeout = time.Minute
	start = time.Now()
	if _, err := w.send(ctx2, slow, "", ""); err == nil || time.Since(start) > 500*time.Millisecond {
		t.Errorf("context ended: %v after %v", err, time.Since(start))
	}
	if err := scenarios["discovery"].run(ctx, w); err != nil {
		t.Errorf("after a cut request: %v", err)
	}
	if !slices.Equal([]string{leanTargetAddr("http://127.0.0.1/"), leanTargetAddr("https://127.0.0.1/"),
		leanTargetAddr("http://h:8080/")}, []string{"127.0.0.1:80", "", "h:8080"}) {
		t.Error("leanTarget")
	}
	proxied := func(*http.Request) (*url.URL, error) { return url.Parse("http://proxy:3128") }
	if addr, _ := leanTarget(must(url.Parse("http://h/")), proxied); addr != "" {
		t.Error("the lean path taken through a proxy")
	}
}

func leanTargetAddr(u string) string {
	addr, _ := leanTarget(must(url.Parse(u)), nil)
	return addr
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestReadAnswer(t *testing.T) {
	long := "X-Long: " + strings.Repeat("a", 20000) + "\r\n"
	stream := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" + long + "Location: /x\r\n\r\nhello" +
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\n\r\n" +
		"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}" +
		"HTTP/1.0 200 OK\r\n\r\nto the end"
	w := &worker{}
	br := bufio.NewReaderSize(strings.NewReader(stream), 8<<10)
	for i, want := range []struct {
		status int
		body   string
		keep   bool
		loc    string
		retry  time.Duration
	}{
		{200, "hello", true, "/x", 0},
		{200, "hello world", true, "", 0},
		{204, "", true, "", 0},
		{429, "{}", false, "", 3 * time.Second},
		{200, "to the end", false, "", 0},
	} {
		a, keep, got, err := w.readAnswer(br)
		if err != nil || !got || a.status != want.status || string(a.body) != want.body || keep != want.keep ||
			a.location != want.loc || a.retryAfter != want.retry {
			t.Errorf("answer %d: %+v %q keep %v got %v err %v", i, a, a.body, keep, got, err)
		}
	}
	if _, _, got, err := w.readAnswer(br); err == nil || got {
		t.Errorf("at the end: got %v, err %v", got, err)
	}
	for _, bad := range []string{"garbage\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"} {
		if _, _, _, err := w.readAnswer(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q read without an error", bad)
		}
	}
}

func TestJSONChecks(t *testing.T) {
	body := []byte(` {"note":"\"sub\":\"no\"", "a":{"x":1}, "sub" : "me", "esc":"a\"b", "active":true} `)
	if v, ok := jsonString(body, "sub"); !ok || string(v) != "me" {
		t.Errorf("sub = %q %v", v, ok)
	}
	if v, ok := jsonString(body, "esc"); !ok || string(v) != `a"b` {
		t.Errorf("esc = %q %v", v, ok)
	}
	if v := jsonValue(body, "active"); !bytes.HasPrefix(v, []byte("true")) {
		t.Errorf("active = %q", v)
	}
	if _, ok := jsonString(body, "a"); ok {
		t.Error("an object read as a string")
	}
	if _, ok := jsonString(body, "missing"); ok {
		t.Error("a missing name found")
	}
	if !jsonObject(body) || jsonObject([]byte(`["x"]`)) || jsonObject([]byte("{")) {
		t.Error("jsonObject")
	}
}

// TestAuthorizeSSOLean: the SSO /authorize goes on the lean path with the
// browser's cookies, takes the cookies it is given, and hands anything but
// the redirect to the relying party over to net/http.
func TestAuthorizeSSOLean(t *testing.T) {
	var srv *httptest.Server
	var leanCalls atomic.Int64
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_, _ = fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q}`, srv.URL, srv.URL+"/authorize", srv.URL+"/token")
		case "/authorize":
			if r.Header.Get("User-Agent") == "Go-http-client/1.1" && r.Header.Get("Accept-Encoding") == "" {
				leanCalls.Add(1) // net/http asks for gzip; the lean path does not
			}
			switch c, _ := r.Cookie("sess"); {
			case c == nil:
				http.Redirect(w, r, "/login?authRequestID=1", http.StatusFound)
			case c.Value == "1":
				http.SetCookie(w, &http.Cookie{Name: "sess", Value: "2", Path: "/"})
				http.Redirect(w, r, srv.URL+"/cb?code=c1&state=s", http.StatusFound)
			default:
				http.Redirect(w, r, "/login/consent?authRequestID=2", http.StatusFound)
			}
		default:
			_, _ = w.Write([]byte("a page"))
		}
	}))
	t.Cleanup(srv.Close)
	l, err := newLoader(t.Context(), Options{Issuer: srv.URL, Concurrency: 1, Timeout: time.Second, RedirectURI: srv.URL + "/cb"})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(l, 0)
	defer w.closeLean()
	w.freshBrowser()
	w.client.Jar.SetCookies(must(url.Parse(srv.URL)), []*http.Cookie{{Name: "sess", Value: "1", Path: "/"}})

	cb, page, _, err := w.authorizeSSO(t.Context(), srv.URL+"/authorize?x=1")
	if err != nil || page != nil || cb == nil || cb.Query().Get("code") != "c1" {
		t.Fatalf("SSO answer: cb %v page %v err %v", cb, page, err)
	}
	if got := w.client.Jar.Cookies(must(url.Parse(srv.URL))); len(got) != 1 || got[0].Value != "2" {
		t.Errorf("cookie after the lean answer: %v, want sess=2", got)
	}
	cb, page, body, err := w.authorizeSSO(t.Context(), srv.URL+"/authorize?x=2")
	if err != nil || cb != nil || page == nil || page.Path != "/login/consent" || string(body) != "a page" {
		t.Errorf("another redirect: cb %v page %v %q err %v, want the page followed to", cb, page, body, err)
	}
	if n := leanCalls.Load(); n != 2 {
		t.Errorf("%d /authorize requests on the lean path, want 2", n)
	}
}
