package ssf

import (
	"encoding/base64"
	"errors"
	"fmt"

	"tsubasa/provider/seal"
)

// The receiver's Authorization header is a credential the partner gave
// us to present, so it cannot be hashed: it is stored sealed with
// AES-256-GCM under a key derived from the server's key (cmd derives it),
// with the stream's id as additional data, so a sealed header copied to
// another stream does not open.

// ErrSealed is a sealed header that does not open under this key.
var ErrSealed = errors.New("ssf: the stream's authorization header does not open under this server's key")

// Seal returns header sealed for stream id; "" for no header.
func Seal(key []byte, id, header string) (string, error) {
	if header == "" {
		return "", nil
	}
	b, err := seal.New(key)
	if err != nil {
		return "", fmt.Errorf("ssf: %w", err)
	}
	return base64.RawStdEncoding.EncodeToString(b.Seal([]byte(header), []byte(id))), nil
}

// Open returns the header Seal sealed for stream id; "" for none.
func Open(key []byte, id, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	b, err := seal.New(key)
	if err != nil {
		return "", fmt.Errorf("ssf: %w", err)
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil {
		return "", ErrSealed
	}
	plain, err := b.Open(raw, []byte(id))
	if err != nil {
		return "", ErrSealed
	}
	return string(plain), nil
}
