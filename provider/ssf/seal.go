package ssf

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// The receiver's Authorization header is a credential the partner gave
// us to present, so it cannot be hashed: it is stored sealed with
// AES-256-GCM under a key derived from the server's key (cmd derives it),
// with the stream's id as additional data, so a sealed header copied to
// another stream does not open.

// ErrSealed is a sealed header that does not open under this key.
var ErrSealed = errors.New("ssf: the stream's authorization header does not open under this server's key")

func aead(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("ssf: the sealing key is %d bytes, want 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Seal returns header sealed for stream id; "" for no header.
func Seal(key []byte, id, header string) (string, error) {
	if header == "" {
		return "", nil
	}
	a, err := aead(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	return base64.RawStdEncoding.EncodeToString(a.Seal(nonce, nonce, []byte(header), []byte(id))), nil
}

// Open returns the header Seal sealed for stream id; "" for none.
func Open(key []byte, id, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	a, err := aead(key)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < a.NonceSize() {
		return "", ErrSealed
	}
	plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], []byte(id))
	if err != nil {
		return "", ErrSealed
	}
	return string(plain), nil
}
