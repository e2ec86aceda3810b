package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpensOnlyWithItsKeyAndData(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := b.Seal([]byte("secret"), []byte("stream-1")), b.Seal([]byte("secret"), []byte("stream-1"))
	if bytes.Equal(s1, s2) {
		t.Fatal("two seals of one value are equal: the nonce is not fresh")
	}
	if bytes.Contains(s1, []byte("secret")) {
		t.Fatal("the sealed value holds the plain text")
	}
	if got, err := b.Open(s1, []byte("stream-1")); err != nil || string(got) != "secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	flipped := bytes.Clone(s1)
	flipped[len(flipped)-1] ^= 1
	for name, open := range map[string]func() ([]byte, error){
		"other data": func() ([]byte, error) { return b.Open(s1, []byte("stream-2")) },
		"other key":  func() ([]byte, error) { return other.Open(s1, []byte("stream-1")) },
		"changed":    func() ([]byte, error) { return b.Open(flipped, []byte("stream-1")) },
		"truncated":  func() ([]byte, error) { return b.Open(s1[:20], []byte("stream-1")) },
		"empty":      func() ([]byte, error) { return b.Open(nil, []byte("stream-1")) },
	} {
		if got, err := open(); !errors.Is(err, ErrOpen) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrOpen", name, got, err)
		}
	}
	if _, err := New(key[:16]); err == nil {
		t.Error("a 16-byte key was taken")
	}
}
