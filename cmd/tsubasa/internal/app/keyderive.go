package app

import (
	"crypto/hkdf"
	"crypto/sha256"
)

// deriveKey derives an independent 32-byte key for one purpose from the
// master secret (HKDF-SHA-256), so no key serves two purposes.
func deriveKey(master []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, master, nil, "tsubasa/"+purpose, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce; 32 is always fine
	}
	return k
}
