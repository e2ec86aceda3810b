// Package seal seals small secrets the server must be able to read back
// (a partner's credential, a cached answer, a ceremony's state) with
// AES-256-GCM: a fresh random nonce before the ciphertext, and additional
// data that binds each sealed value to where it belongs (a stream id, a
// record key), so that a value copied elsewhere does not open. Callers
// derive their own 32-byte key for their purpose from the server's key;
// the package keeps nothing but the cipher.
package seal
