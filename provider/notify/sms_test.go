package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/provider/notify/notifytest"
)

var testSMS = SMS{To: "+819012345678", Body: "Tsubasa code 482915", Purpose: "otp", Locale: "ja"}

// fastRetries keeps the retry pauses out of the test's running time.
var fastRetries = []time.Duration{time.Millisecond, time.Millisecond}

func TestWebhookSender(t *testing.T) {
	for _, tc := range []struct {
		name      string
		token     string
		setup     func(*notifytest.SMSWebhook)
		wantErr   bool
		permanent bool
		tries     int
	}{
		{name: "2xx", token: "tok", tries: 1},
		{name: "no token", tries: 1},
		{name: "5xx then 2xx", token: "tok", setup: func(w *notifytest.SMSWebhook) { w.FailNext(2) }, tries: 3},
		{name: "5xx every time", setup: func(w *notifytest.SMSWebhook) { w.FailNext(10) }, wantErr: true, tries: 3},
		{name: "429 is retried", setup: func(w *notifytest.SMSWebhook) { w.SetStatus(429) }, wantErr: true, tries: 3},
		{name: "4xx is permanent", setup: func(w *notifytest.SMSWebhook) { w.SetStatus(422) }, wantErr: true, permanent: true, tries: 1},
		{name: "201 counts as sent", setup: func(w *notifytest.SMSWebhook) { w.SetStatus(201) }, tries: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := notifytest.NewSMSWebhook(t)
			if tc.setup != nil {
				tc.setup(hook)
			}
			s, err := NewWebhookSender(hook.URL(), tc.token, hook.Client())
			if err != nil {
				t.Fatal(err)
			}
			s.http.backoff = fastRetries
			err = s.SendSMS(t.Context(), testSMS)
			if (err != nil) != tc.wantErr || IsPermanent(err) != tc.permanent {
				t.Fatalf("err = %v, want error %v permanent %v", err, tc.wantErr, tc.permanent)
			}
			if err != nil && strings.Contains(err.Error(), "482915") {
				t.Errorf("error leaks the body: %v", err)
			}
			reqs := hook.Requests()
			if len(reqs) != tc.tries {
				t.Fatalf("%d requests, want %d", len(reqs), tc.tries)
			}
			for _, r := range reqs {
				if r.To != testSMS.To || r.Body != testSMS.Body || r.Purpose != "otp" || r.Locale != "ja" {
					t.Errorf("request = %+v", r)
				}
				wantAuth := ""
				if tc.token != "" {
					wantAuth = "Bearer " + tc.token
				}
				if r.Authorization != wantAuth {
					t.Errorf("Authorization = %q, want %q", r.Authorization, wantAuth)
				}
				if r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
				}
				if key := r.Header.Get("Idempotency-Key"); key == "" || key != reqs[0].Header.Get("Idempotency-Key") {
					t.Errorf("Idempotency-Key %q must be set and the same on every try", key)
				}
			}
		})
	}
}

func TestWebhookSenderHangHonoursContext(t *testing.T) {
	hook := notifytest.NewSMSWebhook(t)
	hook.SetHang(true)
	s, err := NewWebhookSender(hook.URL(), "", hook.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err = s.SendSMS(ctx, testSMS)
	if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary deadline error", err)
	}
	if n := len(hook.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (no retry once ctx is done)", n)
	}
}

func TestWebhookSenderTransportError(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	secretURL := down.URL + "/hook?token=sekrit"
	s, err := NewWebhookSender(secretURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.http.backoff = fastRetries
	err = s.SendSMS(t.Context(), testSMS)
	if err == nil || IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if strings.Contains(err.Error(), "sekrit") {
		t.Errorf("error repeats the URL: %v", err)
	}
	if !strings.Contains(err.Error(), "3 tries") {
		t.Errorf("error = %v, want it to count 3 tries", err)
	}
}

func TestSMSSenderConstructors(t *testing.T) {
	for _, u := range []string{"/hook", "ftp://x/hook", "", "http://"} {
		if _, err := NewWebhookSender(u, "", nil); err == nil {
			t.Errorf("NewWebhookSender(%q): want error", u)
		}
	}
	const base = "https://api.twilio.com"
	for _, tc := range []struct{ name, base, sid, token, from string }{
		{"no sid", base, "", "tok", "+1"},
		{"sid with slash", base, "AC/x", "tok", "+1"},
		{"no token", base, "AC1", "", "+1"},
		{"no from", base, "AC1", "tok", ""},
		{"relative base", "api.twilio.com", "AC1", "tok", "+1"},
	} {
		if _, err := NewTwilioSender(tc.base, tc.sid, tc.token, tc.from, nil); err == nil {
			t.Errorf("NewTwilioSender %s: want error", tc.name)
		}
	}
}

type twilioCall struct {
	method, path, user, pass, contentType string
	form                                  url.Values
}

func twilioServer(t *testing.T, answer func(n int) (int, string)) (*httptest.Server, func() []twilioCall) {
	t.Helper()
	var mu sync.Mutex
	var calls []twilioCall
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		_ = r.ParseForm()
		mu.Lock()
		calls = append(calls, twilioCall{r.Method, r.URL.Path, user, pass, r.Header.Get("Content-Type"), r.PostForm})
		n := len(calls)
		mu.Unlock()
		status, body := answer(n)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []twilioCall {
		mu.Lock()
		defer mu.Unlock()
		return append([]twilioCall(nil), calls...)
	}
}

func TestTwilioSender(t *testing.T) {
	created := func(int) (int, string) { return 201, `{"sid":"SM123","status":"queued"}` }
	for _, tc := range []struct {
		name       string
		from       string
		baseSuffix string
		answer     func(n int) (int, string)
		wantErr    string
		permanent  bool
		tries      int
	}{
		{name: "from number", from: "+15005550006", answer: created, tries: 1},
		{name: "messaging service", from: "MG0123456789abcdef", answer: created, tries: 1},
		{name: "trailing slash in base URL", from: "+15005550006", baseSuffix: "/", answer: created, tries: 1},
		{name: "invalid number is permanent", from: "+15005550006", tries: 1, permanent: true,
			answer: func(int) (int, string) {
				return 400, `{"code":21211,"message":"The 'To' number +819012345678 is not a valid phone number."}`
			},
			wantErr: "twilio error 21211"},
		{name: "503 then 201", from: "+15005550006", tries: 2,
			answer: func(n int) (int, string) {
				if n == 1 {
					return 503, `{}`
				}
				return 201, `{}`
			}},
		{name: "500 every time", from: "+15005550006", tries: 3, wantErr: "500",
			answer: func(int) (int, string) { return 500, `{}` }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := twilioServer(t, tc.answer)
			s, err := NewTwilioSender(srv.URL+tc.baseSuffix, "AC0123", "auth-token", tc.from, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			s.http.backoff = fastRetries
			err = s.SendSMS(t.Context(), testSMS)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("SendSMS: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			case IsPermanent(err) != tc.permanent:
				t.Fatalf("permanent = %v, want %v", IsPermanent(err), tc.permanent)
			}
			if err != nil && strings.Contains(err.Error(), "+819012345678") {
				t.Errorf("error quotes Twilio's message: %v", err)
			}
			got := calls()
			if len(got) != tc.tries {
				t.Fatalf("%d calls, want %d", len(got), tc.tries)
			}
			c := got[0]
			if c.method != http.MethodPost || c.path != "/2010-04-01/Accounts/AC0123/Messages.json" {
				t.Errorf("request %s %s", c.method, c.path)
			}
			if c.user != "AC0123" || c.pass != "auth-token" {
				t.Errorf("basic auth %q:%q", c.user, c.pass)
			}
			if c.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q", c.contentType)
			}
			if c.form.Get("To") != testSMS.To || c.form.Get("Body") != testSMS.Body {
				t.Errorf("form %v", c.form)
			}
			fromKey, otherKey := "From", "MessagingServiceSid"
			if strings.HasPrefix(tc.from, "MG") {
				fromKey, otherKey = otherKey, fromKey
			}
			if c.form.Get(fromKey) != tc.from || c.form.Has(otherKey) {
				t.Errorf("form %v: want %s=%s and no %s", c.form, fromKey, tc.from, otherKey)
			}
		})
	}
}
