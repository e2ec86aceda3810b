package webhook

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"tsubasa/provider/outbound"
)

// The sender POSTs the body as JSON, signed so that Verify accepts it,
// and sorts the receiver's answers into delivered, retried and given up.
func TestSendSignsAndClassifiesAnswers(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"type":"login.succeeded","id":"evt-1"}`)
	status := make(chan int, 1)
	var verr error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		verr = Verify(r.Header, SecretFor(key, "sub-1"), b, now, 5*time.Minute)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get(HeaderID) != "evt-1" {
			verr = errors.New("not a JSON POST of evt-1")
		}
		w.WriteHeader(<-status)
	}))
	defer srv.Close()
	s := NewSender(outbound.New(outbound.Options{AllowPrivateNetworks: true}), key, func() time.Time { return now })
	for _, tt := range []struct {
		status      int
		ok, forGood bool
	}{
		{200, true, false}, {204, true, false},
		{400, false, true}, {404, false, true}, {410, false, true},
		{408, false, false}, {429, false, false}, {500, false, false}, {503, false, false}, {302, false, false},
	} {
		status <- tt.status
		err := s.Send(t.Context(), "sub-1", srv.URL, "evt-1", body)
		if verr != nil {
			t.Fatalf("answer %d: the receiver's check: %v", tt.status, verr)
		}
		if (err == nil) != tt.ok || errors.Is(err, ErrUndeliverable) != tt.forGood {
			t.Errorf("answer %d: Send = %v; want ok %v, undeliverable %v", tt.status, err, tt.ok, tt.forGood)
		}
	}
}

// Without allow_private_networks the sender never connects to a loopback
// receiver, and says that retrying will not help.
func TestSendRefusesPrivateAddresses(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	defer srv.Close()
	s := NewSender(outbound.New(outbound.Options{}), []byte("k"), nil)
	err := s.Send(t.Context(), "sub-1", srv.URL, "evt-1", []byte(`{}`))
	if !errors.Is(err, ErrUndeliverable) || !errors.Is(err, outbound.ErrRefusedAddress) || called {
		t.Fatalf("Send = %v (called %v); want a refused address, not called", err, called)
	}
}
