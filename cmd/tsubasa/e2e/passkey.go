package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"
)

// PasskeyKey is a PKCS#8 P-256 key for a software passkey
// (github.com/descope/virtualwebauthn), whose coordinates both start with
// a non-zero byte: virtualwebauthn writes them without leading zeros,
// which go-webauthn rightly refuses.
func PasskeyKey(t *testing.T) []byte {
	t.Helper()
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			t.Fatal(err)
		}
		if pub[1] == 0 || pub[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
}
