// Package argon2id is Argon2id (RFC 9106, version 1.3) for the member
// package's password hashes, computed in memory the caller keeps.
//
// It is golang.org/x/crypto/argon2 at v0.58.0, cut down to Argon2id without
// secret or associated data, with two changes:
//
//   - A Memory holds the working blocks between hashes. x/crypto allocates
//     them on every call (19 MiB with the default parameters), which the
//     runtime must zero, collect, return to the kernel and fault back in;
//     that cost about a tenth of a hash's CPU under login load.
//   - The first pass overwrites each block instead of XORing it into
//     memory assumed to be zero. Version 1.3 only XORs from the second
//     pass on, so the result is the same, and reused memory needs no
//     clearing.
//
// The blamka kernels (blamka_amd64.s, blamka_generic.go) and blake2b.go are
// x/crypto's, without its loong64 kernel (other architectures than amd64
// use the generic one). The tests check every result against x/crypto's
// IDKey, including with memory left dirty by other hashes. LICENSE is
// x/crypto's.
package argon2id
