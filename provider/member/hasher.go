package member

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Default argon2id parameters: the OWASP recommendation of 19 MiB, 2 passes,
// 1 lane: tens of milliseconds per hash on one core (BenchmarkAuthenticate
// reports the figure for a machine as ms/hash).
const (
	DefaultMemoryKiB   = 19 * 1024
	DefaultIterations  = 2
	DefaultParallelism = 1
	DefaultQueue       = 64
)

const (
	saltLen = 16
	keyLen  = 32
	// Bounds on parameters read from stored hashes, so a corrupt or hostile
	// record cannot make a verify allocate gigabytes or run for minutes.
	maxMemoryKiB  = 1 << 20 // 1 GiB
	maxIterations = 64
	maxBcryptCost = 15
)

// HashOptions configures a Hasher. Zero fields take the defaults.
type HashOptions struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	// MaxConcurrent bounds hashes running at once (0 = runtime.NumCPU()).
	MaxConcurrent int
	// Queue bounds callers waiting for a slot beyond those running; one more
	// gets ErrBusy at once. 0 = DefaultQueue; negative = no waiting at all.
	Queue int
}

// Hasher hashes and verifies passwords and PINs with argon2id, and verifies
// imported bcrypt hashes. A semaphore bounds concurrent hashing: argon2id
// is memory-hard on purpose, so unbounded logins would exhaust memory.
type Hasher struct {
	memory, iterations uint32
	parallelism        uint8
	queue              int64
	slots              chan struct{}
	waiting            atomic.Int64
	dummy              string // argon2id of a random secret, for DummyVerify

	// hook, when set by tests, runs while a slot is held.
	hook func()
}

// NewHasher returns a Hasher with o's parameters.
func NewHasher(o HashOptions) *Hasher {
	h := &Hasher{memory: o.MemoryKiB, iterations: o.Iterations, parallelism: o.Parallelism}
	if h.memory == 0 {
		h.memory = DefaultMemoryKiB
	}
	if h.iterations == 0 {
		h.iterations = DefaultIterations
	}
	if h.parallelism == 0 {
		h.parallelism = DefaultParallelism
	}
	n := o.MaxConcurrent
	if n <= 0 {
		n = runtime.NumCPU()
	}
	h.slots = make(chan struct{}, n)
	switch {
	case o.Queue == 0:
		h.queue = DefaultQueue
	case o.Queue > 0:
		h.queue = int64(o.Queue)
	}
	h.dummy = h.encode(randomBytes(saltLen), randomBytes(keyLen))
	return h
}

// Stats reports hashes running now and callers waiting for a slot.
func (h *Hasher) Stats() (running, waiting int) {
	return len(h.slots), int(h.waiting.Load())
}

// acquire takes a slot. With wait=false (interactive callers) it gives up
// with ErrBusy when the waiting line is full; with wait=true (imports) it
// queues without limit. Both give up when ctx ends. The Service takes the
// slot before it records a login attempt, so a busy answer costs the member
// nothing, and then uses the *Held methods.
func (h *Hasher) acquire(ctx context.Context, wait bool) (release func(), err error) {
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
	default:
		if n := h.waiting.Add(1); !wait && n > h.queue {
			h.waiting.Add(-1)
			return nil, ErrBusy
		}
		defer h.waiting.Add(-1)
		select {
		case h.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	if h.hook != nil {
		h.hook()
	}
	return release, nil
}

// Hash returns the argon2id PHC string of secret:
// $argon2id$v=19$m=M,t=T,p=P$salt$key (unpadded standard base64).
func (h *Hasher) Hash(ctx context.Context, secret string) (string, error) {
	return h.hash(ctx, secret, false)
}

func (h *Hasher) hash(ctx context.Context, secret string, wait bool) (string, error) {
	release, err := h.acquire(ctx, wait)
	if err != nil {
		return "", err
	}
	defer release()
	return h.hashHeld(secret), nil
}

// hashHeld hashes with a slot already held.
func (h *Hasher) hashHeld(secret string) string {
	salt := randomBytes(saltLen)
	key := argon2.IDKey([]byte(secret), salt, h.iterations, h.memory, h.parallelism, keyLen)
	return h.encode(salt, key)
}

func (h *Hasher) encode(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.memory, h.iterations,
		h.parallelism, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify checks secret against a PHC string: argon2id, or bcrypt
// ($2a$, $2b$, $2y$) from an import. needsRehash is true when the secret
// matched but the hash should be replaced: other argon2id parameters than
// the Hasher's, or bcrypt. A malformed hash gives ErrHashFormat.
func (h *Hasher) Verify(ctx context.Context, phc, secret string) (ok, needsRehash bool, err error) {
	release, err := h.acquire(ctx, false)
	if err != nil {
		return false, false, err
	}
	defer release()
	return h.verifyHeld(phc, secret)
}

// verifyHeld verifies with a slot already held.
func (h *Hasher) verifyHeld(phc, secret string) (ok, needsRehash bool, err error) {
	if isBcrypt(phc) {
		if _, err := bcryptCost(phc); err != nil {
			return false, false, err
		}
		if bcrypt.CompareHashAndPassword([]byte(phc), []byte(secret)) != nil {
			return false, false, nil
		}
		return true, true, nil
	}
	p, err := parseArgon2id(phc)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(secret), p.salt, p.t, p.m, p.p, uint32(len(p.key)))
	if subtle.ConstantTimeCompare(key, p.key) != 1 {
		return false, false, nil
	}
	stale := p.m != h.memory || p.t != h.iterations || p.p != h.parallelism ||
		len(p.salt) != saltLen || len(p.key) != keyLen
	return true, stale, nil
}

// DummyVerify does the work of a real Verify against a hash that nothing
// matches, so that answers for unknown members take as long as for known
// ones. It returns only ErrBusy or a context error.
func (h *Hasher) DummyVerify(ctx context.Context, secret string) error {
	_, _, err := h.Verify(ctx, h.dummy, secret)
	return err
}

// dummyHeld is DummyVerify with a slot already held.
func (h *Hasher) dummyHeld(secret string) { _, _, _ = h.verifyHeld(h.dummy, secret) }

type argon2Params struct {
	m, t      uint32
	p         uint8
	salt, key []byte
}

// parseArgon2id decodes and bounds-checks an argon2id PHC string.
func parseArgon2id(phc string) (argon2Params, error) {
	var a argon2Params
	f := strings.Split(phc, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return a, ErrHashFormat
	}
	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return a, ErrHashFormat
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], name)
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return a, ErrHashFormat
		}
		vals[i] = n
	}
	a.m, a.t = uint32(vals[0]), uint32(vals[1])
	if vals[2] < 1 || vals[2] > 255 || a.t < 1 || a.t > maxIterations ||
		a.m < 8*uint32(vals[2]) || a.m > maxMemoryKiB {
		return a, ErrHashFormat
	}
	a.p = uint8(vals[2])
	var err1, err2 error
	a.salt, err1 = base64.RawStdEncoding.Strict().DecodeString(f[4])
	a.key, err2 = base64.RawStdEncoding.Strict().DecodeString(f[5])
	if err1 != nil || err2 != nil || len(a.salt) < 8 || len(a.salt) > 64 || len(a.key) < 16 || len(a.key) > 64 {
		return a, ErrHashFormat
	}
	return a, nil
}

func isBcrypt(phc string) bool {
	return strings.HasPrefix(phc, "$2a$") || strings.HasPrefix(phc, "$2b$") || strings.HasPrefix(phc, "$2y$")
}

// bcryptCost validates the shape of a bcrypt hash and returns its cost,
// refusing costs above maxBcryptCost.
func bcryptCost(phc string) (int, error) {
	if !isBcrypt(phc) || len(phc) != 60 {
		return 0, ErrHashFormat
	}
	cost, err := bcrypt.Cost([]byte(phc))
	if err != nil || cost > maxBcryptCost {
		return 0, ErrHashFormat
	}
	return cost, nil
}

// checkHashFormat accepts what Verify can check: argon2id or bcrypt.
func checkHashFormat(phc string) error {
	if isBcrypt(phc) {
		_, err := bcryptCost(phc)
		return err
	}
	_, err := parseArgon2id(phc)
	return err
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return b
}
