package ssf

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestSealOpensOnlyForItsStreamAndKey: a sealed header opens back for its
// stream under its key, never for another stream, another key, or once
// tampered with; and the sealed text does not hold the header.
func TestSealOpensOnlyForItsStreamAndKey(t *testing.T) {
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	const header = "Bearer partner-token-0123456789"
	sealed, err := Seal(key, "ssf_a", header)
	if err != nil || sealed == "" || strings.Contains(sealed, "partner-token") {
		t.Fatalf("Seal: %q %v", sealed, err)
	}
	if got, err := Open(key, "ssf_a", sealed); err != nil || got != header {
		t.Errorf("Open: %q %v", got, err)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	for name, open := range map[string]func() (string, error){
		"another stream": func() (string, error) { return Open(key, "ssf_b", sealed) },
		"another key":    func() (string, error) { return Open(other, "ssf_a", sealed) },
		"tampered":       func() (string, error) { return Open(key, "ssf_a", string(tampered)) },
		"not base64":     func() (string, error) { return Open(key, "ssf_a", "%%%") },
	} {
		if got, err := open(); !errors.Is(err, ErrSealed) || got != "" {
			t.Errorf("%s: %q %v, want ErrSealed", name, got, err)
		}
	}
	if s, err := Seal(key, "ssf_a", ""); s != "" || err != nil {
		t.Errorf("no header seals to %q %v", s, err)
	}
	if h, err := Open(key, "ssf_a", ""); h != "" || err != nil {
		t.Errorf("nothing sealed opens to %q %v", h, err)
	}
	if _, err := Seal([]byte("short"), "ssf_a", header); err == nil {
		t.Error("a short key sealed")
	}
}
