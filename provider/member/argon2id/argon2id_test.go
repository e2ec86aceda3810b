package argon2id

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestVectors checks the Argon2id vectors x/crypto checks, generated with
// the reference implementation's command line (password "password", salt
// "somesalt"), each in fresh memory and then in memory a larger hash left
// dirty.
func TestVectors(t *testing.T) {
	for _, v := range []struct {
		time, memory uint32
		threads      uint8
		hash         string
	}{
		{1, 64, 1, "655ad15eac652dc59f7170a7332bf49b8469be1fdb9c28bb"},
		{2, 64, 1, "068d62b26455936aa6ebe60060b0a65870dbfa3ddf8d41f7"},
		{2, 64, 2, "350ac37222f436ccb5c0972f1ebd3bf6b958bf2071841362"},
		{3, 256, 2, "4668d30ac4187e6878eedeacf0fd83c5a0a30db2cc16ef0b"},
		{4, 4096, 4, "145db9733a9f4ee43edf33c509be96b934d505a4efb33c5a"},
		{4, 1024, 8, "8dafa8e004f8ea96bf7c0f93eecf67a6047476143d15577f"},
		{2, 64, 3, "4a15b31aec7c2590b87d1f520be7d96f56658172deaa3079"},
		{3, 1024, 6, "1640b932f4b60e272f5d2207b9a9c626ffa1bd88d2349016"},
	} {
		want, _ := hex.DecodeString(v.hash)
		var dirty Memory
		dirty.Key([]byte("other"), []byte("othersalt"), 1, 8192, 1, 32)
		for name, m := range map[string]*Memory{"fresh": new(Memory), "dirty": &dirty} {
			got := m.Key([]byte("password"), []byte("somesalt"), v.time, v.memory, v.threads, uint32(len(want)))
			if !bytes.Equal(got, want) {
				t.Errorf("t=%d m=%d p=%d (%s memory): %x, want %s", v.time, v.memory, v.threads, name, got, v.hash)
			}
		}
	}
}

// TestSameAsXCrypto hashes a sequence of parameter sets, growing and
// shrinking, in one Memory, and compares each key with x/crypto's.
func TestSameAsXCrypto(t *testing.T) {
	var m Memory
	for i, p := range []struct {
		time, memory uint32
		threads      uint8
		keyLen       uint32
	}{
		{2, 19 * 1024, 1, 32}, // the default
		{1, 64, 1, 16},        // much smaller, in the same memory
		{3, 1000, 1, 32},      // not a multiple of the sync points
		{2, 19 * 1024, 1, 32}, // back to the default, memory dirty
		{1, 4096, 4, 64},
		{2, 2048, 3, 100}, // a key longer than one BLAKE2b output
		{1, 16, 2, 32},    // below the minimum for two lanes
		{2, 24 * 1024, 2, 32},
	} {
		pw, salt := fmt.Appendf(nil, "password-%d", i), fmt.Appendf(nil, "salt-of-case-%d", i)
		want := argon2.IDKey(pw, salt, p.time, p.memory, p.threads, p.keyLen)
		if got := m.Key(pw, salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
			t.Errorf("case %d %+v: %x, want %x", i, p, got, want)
		}
	}
	if got, want := m.Blocks(), 24*1024; got != want {
		t.Errorf("Blocks = %d, want %d (the largest asked for)", got, want)
	}
}

func TestPanicsOnZeroCost(t *testing.T) {
	for _, c := range []struct {
		time    uint32
		threads uint8
	}{{0, 1}, {1, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("time=%d threads=%d: no panic", c.time, c.threads)
				}
			}()
			new(Memory).Key([]byte("x"), []byte("saltsalt"), c.time, 64, c.threads, 32)
		}()
	}
}

// BenchmarkKey compares a hash with the default parameters in kept memory
// with x/crypto's, which allocates it each time.
func BenchmarkKey(b *testing.B) {
	pw, salt := []byte("Benchmark-password"), []byte("benchmark-salt16")
	b.Run("kept", func(b *testing.B) {
		var m Memory
		for b.Loop() {
			m.Key(pw, salt, 2, 19*1024, 1, 32)
		}
	})
	b.Run("x-crypto", func(b *testing.B) {
		for b.Loop() {
			argon2.IDKey(pw, salt, 2, 19*1024, 1, 32)
		}
	})
}
