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
// imported bcrypt hashes. argon2id is memory-hard on purpose, so hashing
// is bounded twice:
//
//   - A caller is first admitted: at most MaxConcurrent+Queue at once, and
//     one more gets ErrBusy before it has done or recorded anything.
//   - An admitted caller then takes a slot for each hash it computes: at
//     most MaxConcurrent at once. Between hashes (a login recording its
//     attempt) a caller holds no slot, so the cores stay busy with others'
//     hashes.
//
// Each hash is golang.org/x/crypto/argon2's, which allocates its working
// memory (MemoryKiB) per call: with MaxConcurrent hashes at once the heap
// holds at most that many such blocks, which is what the derived
// runtime.memory_limit_mib allows for (README "Load testing").
type Hasher struct {
	memory, iterations uint32
	parallelism        uint8
	capacity           int64         // callers admitted at once
	admitted           atomic.Int64  // callers admitted now
	slots              chan struct{} // the idle slots
	dummy              string        // argon2id of a random secret, for DummyVerify

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
	for range n {
		h.slots <- struct{}{}
	}
	h.capacity = int64(n)
	switch {
	case o.Queue == 0:
		h.capacity += DefaultQueue
	case o.Queue > 0:
		h.capacity += int64(o.Queue)
	}
	h.dummy = h.encode(randomBytes(saltLen), randomBytes(keyLen))
	return h
}

// Stats reports hashes running now and admitted callers not hashing
// (waiting for a slot, or between their hashes).
func (h *Hasher) Stats() (running, waiting int) {
	running = cap(h.slots) - len(h.slots)
	return running, max(int(h.admitted.Load())-running, 0)
}

// admission is one admitted caller, used by its goroutine only; close it
// when done (again is harmless).
type admission struct {
	h      *Hasher
	closed bool
}

// admit lets a caller in. With wait=false (interactive callers) it gives
// up with ErrBusy when MaxConcurrent+Queue are in already; with wait=true
// (imports) it always admits, and the caller queues for a slot. The
// Service is admitted before it records a login attempt, so a busy answer
// costs the member nothing.
func (h *Hasher) admit(wait bool) (*admission, error) {
	if n := h.admitted.Add(1); !wait && n > h.capacity {
		h.admitted.Add(-1)
		return nil, ErrBusy
	}
	return &admission{h: h}, nil
}

func (a *admission) close() {
	if !a.closed {
		a.closed = true
		a.h.admitted.Add(-1)
	}
}

// run takes a slot, waiting while all are busy or until ctx ends, and
// runs f in it.
func (a *admission) run(ctx context.Context, f func()) error {
	select {
	case <-a.h.slots:
	default:
		select {
		case <-a.h.slots:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	defer func() { a.h.slots <- struct{}{} }()
	if a.h.hook != nil {
		a.h.hook()
	}
	f()
	return nil
}

// Hash returns the argon2id PHC string of secret:
// $argon2id$v=19$m=M,t=T,p=P$salt$key (unpadded standard base64).
func (h *Hasher) Hash(ctx context.Context, secret string) (string, error) {
	return h.hash(ctx, secret, false)
}

func (h *Hasher) hash(ctx context.Context, secret string, wait bool) (phc string, err error) {
	a, err := h.admit(wait)
	if err != nil {
		return "", err
	}
	defer a.close()
	err = a.run(ctx, func() { phc = h.hashIn(secret) })
	return phc, err
}

// hashIn hashes in a slot.
func (h *Hasher) hashIn(secret string) string {
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
	a, err := h.admit(false)
	if err != nil {
		return false, false, err
	}
	defer a.close()
	if werr := a.run(ctx, func() { ok, needsRehash, err = h.verifyIn(phc, secret) }); werr != nil {
		return false, false, werr
	}
	return ok, needsRehash, err
}

// verifyIn verifies in a slot. A stored hash's own parameters apply (an
// older hash may ask for more memory than the Hasher's, up to maxMemoryKiB).
func (h *Hasher) verifyIn(phc, secret string) (ok, needsRehash bool, err error) {
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

// dummy is DummyVerify for an admitted caller.
func (a *admission) dummy(ctx context.Context, secret string) error {
	_, _, err := a.check(ctx, "", secret)
	return err
}

// check verifies secret against phc in one slot, or does a dummy verify
// when phc is empty, and when the secret matched a hash that needs
// replacing it hashes the secret anew in the same slot (newHash). err is
// ErrHashFormat for an unreadable phc (ok is false), or the context's
// error if it ended while waiting for a slot.
func (a *admission) check(ctx context.Context, phc, secret string) (ok bool, newHash string, err error) {
	h := a.h
	if phc == "" {
		phc = h.dummy // nothing matches it, and it never needs replacing
	}
	werr := a.run(ctx, func() {
		var rehash bool
		if ok, rehash, err = h.verifyIn(phc, secret); ok && rehash {
			newHash = h.hashIn(secret)
		}
	})
	if werr != nil {
		return false, "", werr
	}
	return ok, newHash, err
}

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
