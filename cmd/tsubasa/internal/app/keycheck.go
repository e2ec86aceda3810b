package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"

	"tsubasa/storage"
)

// The master secret's key check value (KCV): stored in the database at
// first start so that a server, a replica or a CLI given another master
// secret than the database was initialised with refuses to start, instead
// of deriving other keys and silently breaking every stored client
// secret, session, refresh token, device cookie and pairwise subject.
//
// The value is "tsubasa-kcv1", a random 16-byte salt and the first 16
// bytes of argon2id(master, salt) at OWASP's minimum password parameters
// (19 MiB, 2 passes). It is never the secret nor a key derived from it:
// argon2id is one-way, and a database reader who wants to test guesses of
// a weak master secret pays a memory-hard hash per guess, more than any
// other value stored could cost them (HMACs of codes and OTPs are cheap
// per guess, but each also needs the unknown code). A master secret is at
// least 32 bytes (config), and generated ones are 32 random bytes, so no
// guessing succeeds either way.
const (
	kcvSecretName = "master_check"
	kcvPrefix     = "tsubasa-kcv1"
	kcvSaltLen    = 16
	kcvLen        = 16
	kcvMemoryKiB  = 19 * 1024
	kcvPasses     = 2
)

// errMasterMismatch says the secret differs without saying anything of it.
var errMasterMismatch = errors.New("the master secret (secret or secret_file, or TSUBASA_SECRET) is not the one this database was initialised with: " +
	"every replica and every CLI must read the same secret_file. Check which file secret_file names on this machine. " +
	"Starting with another secret would invalidate stored client secrets, sessions, tokens and pairwise subjects, so Tsubasa refuses")

func kcvOf(master, salt []byte) []byte {
	tag := argon2.IDKey(master, salt, kcvPasses, kcvMemoryKiB, 1, kcvLen)
	return append(append([]byte(kcvPrefix), salt...), tag...)
}

// checkMaster stores the check value of master on first use and
// compares master with the stored one, in constant time.
func checkMaster(ctx context.Context, st storage.Secrets, master []byte) error {
	stored, err := st.Secret(ctx, kcvSecretName, func() ([]byte, error) {
		salt := make([]byte, kcvSaltLen)
		if _, err := rand.Read(salt); err != nil {
			return nil, err
		}
		return kcvOf(master, salt), nil
	})
	if err != nil {
		return fmt.Errorf("master secret check value: %w", err)
	}
	// Compared even when this process just stored it: another process
	// may have stored its own first, and that one decides.
	if !bytes.HasPrefix(stored, []byte(kcvPrefix)) || len(stored) != len(kcvPrefix)+kcvSaltLen+kcvLen {
		return errors.New("the stored master secret check value is not one this Tsubasa wrote: the database was written by another version, or altered")
	}
	salt := stored[len(kcvPrefix) : len(kcvPrefix)+kcvSaltLen]
	if subtle.ConstantTimeCompare(kcvOf(master, salt), stored) != 1 {
		return errMasterMismatch
	}
	return nil
}
