package bolt_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// The write-path benchmarks below run on a database pre-filled with the
// refresh tokens of filledFamilies grants (ids like the HMACs the provider
// stores; access tokens are not stored), since how many pages a commit
// dirties depends on the size of the trees it writes into.

const filledFamilies = 50000

var filled struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if importFixture.dir != "" {
		_ = os.RemoveAll(importFixture.dir)
	}
	if filled.dir != "" {
		_ = os.RemoveAll(filled.dir)
	}
	os.Exit(code)
}

// ioUse is what the process has written and spent so far. Wall time per
// operation of a write benchmark is mostly waiting for the disk and for
// the batch, and swings with other load on the machine; these counts do
// not: wB/op is bytes passed to write calls (bbolt writes each dirty page
// with its own pwrite), writes/op those calls, cpu-ns/op user and system
// CPU time of the whole process.
type ioUse struct {
	wchar, syscw int64
	cpu          time.Duration
}

func readIOUse() (u ioUse, ok bool) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return u, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, val, _ := bytes.Cut(sc.Bytes(), []byte(": "))
		n, _ := strconv.ParseInt(string(val), 10, 64)
		switch string(name) {
		case "wchar":
			u.wchar = n
		case "syscw":
			u.syscw = n
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return u, false
	}
	u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return u, true
}

// measureIO starts counting; the function it returns reports the counts
// per operation.
func measureIO(b *testing.B) (report func()) {
	start, ok := readIOUse()
	return func() {
		end, ok2 := readIOUse()
		if !ok || !ok2 || b.N == 0 {
			return
		}
		n := float64(b.N)
		b.ReportMetric(float64(end.wchar-start.wchar)/n, "wB/op")
		b.ReportMetric(float64(end.syscw-start.syscw)/n, "writes/op")
		b.ReportMetric(float64(end.cpu-start.cpu)/n, "cpu-ns/op")
	}
}

// randomID returns a 43-character base64url id, the shape of a token hash.
func randomID(r *rand.Rand) string {
	var b [32]byte
	for i := 0; i < len(b); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// familyToken is token kind of family f, as the provider mints it.
func familyToken(id string, kind storage.TokenKind, f int, expires time.Time) storage.Token {
	member := fmt.Sprintf("m%05d", f%5000)
	client := fmt.Sprintf("client-%d", f%8)
	return storage.Token{
		ID: id, Kind: kind, ClientID: client, MemberID: member, Subject: member,
		Audience: []string{client}, Scopes: []string{"openid", "profile", "offline_access"},
		AuthTime: benchNow, ACR: "urn:tsubasa:acr:pwd", AMR: []string{"pwd"},
		SessionID: fmt.Sprintf("sess-%06d", f), FamilyID: fmt.Sprintf("fam-%06d", f), AuthRequestID: fmt.Sprintf("ar-%06d", f),
		CreatedAt: benchNow, ExpiresAt: expires,
	}
}

// refreshID is the id of the prefilled refresh token of family f.
func refreshID(f int) string { return fmt.Sprintf("refresh-%06d", f) }

// filledStore opens a copy of the pre-filled database.
func filledStore(b *testing.B) *bolt.Store {
	b.Helper()
	filled.once.Do(func() {
		filled.dir, filled.err = os.MkdirTemp("", "tsubasa-bench-")
		if filled.err != nil {
			return
		}
		filled.path = filepath.Join(filled.dir, "filled.db")
		s, err := bolt.Open(filled.path, bolt.Options{})
		if err != nil {
			filled.err = err
			return
		}
		r := rand.New(rand.NewPCG(1, 2))
		var ts []storage.Token
		for f := range filledFamilies {
			exp := benchNow.Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
			ts = append(ts, familyToken(refreshID(f), storage.RefreshToken, f, exp))
			if len(ts) == 1000 || f == filledFamilies-1 {
				if err := s.CreateTokens(b.Context(), ts...); err != nil {
					filled.err = err
					break
				}
				ts = ts[:0]
			}
		}
		if err := s.Close(); filled.err == nil {
			filled.err = err
		}
	})
	if filled.err != nil {
		b.Fatal(filled.err)
	}
	data, err := os.ReadFile(filled.path)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "tsubasa.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return openAt(b, path, bolt.Options{})
}

// rotator rotates the refresh token of one family, as a client refreshing
// again and again: each rotation stores the next refresh token, as the
// provider does.
type rotator struct {
	s      *bolt.Store
	family int
	cur    string
	r      *rand.Rand
	seq    *atomic.Int64 // orders new expiry times, as a clock would
}

func (rt *rotator) rotate(b *testing.B) error {
	exp := benchNow.Add(24*time.Hour + time.Duration(rt.seq.Add(1))*time.Microsecond)
	refresh := familyToken(randomID(rt.r), storage.RefreshToken, rt.family, exp)
	if _, err := rt.s.RotateRefreshToken(b.Context(), rt.cur, benchNow, refresh); err != nil {
		return err
	}
	rt.cur = refresh.ID
	return nil
}

func newRotator(s *bolt.Store, family int, seq *atomic.Int64) *rotator {
	// Spread the families over the key space of the prefilled ones.
	f := family * 7919 % filledFamilies
	return &rotator{s: s, family: f, cur: refreshID(f), r: rand.New(rand.NewPCG(uint64(f), 3)), seq: seq}
}

func BenchmarkRotateRefreshTokenFilled(b *testing.B) {
	s := filledStore(b)
	rt := newRotator(s, 1, new(atomic.Int64))
	report := measureIO(b)
	for b.Loop() {
		if err := rt.rotate(b); err != nil {
			b.Fatal(err)
		}
	}
	report()
}

// BenchmarkRotateRefreshTokenFragmented: rotations after the janitor has
// deleted the half of the pre-filled tokens that expired, as on a server
// that has run for a while: the file then has many free pages, which a
// stored free list would write at every commit.
func BenchmarkRotateRefreshTokenFragmented(b *testing.B) {
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			s := filledStore(b)
			if _, err := s.DeleteExpired(b.Context(), benchNow.Add(12*time.Hour)); err != nil {
				b.Fatal(err)
			}
			seq := new(atomic.Int64)
			next := 1
			callers(b, n, func(int) *rotator {
				for ; ; next++ { // a family whose token is still there
					rt := newRotator(s, next, seq)
					if _, err := s.TokenByID(b.Context(), rt.cur); err == nil {
						next++
						return rt
					}
				}
			}, func(rt *rotator) error { return rt.rotate(b) })
		})
	}
}

// callers runs b.N calls of op over n goroutines; each goroutine gets its
// own state from setup.
func callers[S any](b *testing.B, n int, setup func(g int) S, op func(S) error) {
	b.Helper()
	states := make([]S, n)
	for g := range states {
		states[g] = setup(g)
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	report := measureIO(b)
	for g := range n {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := op(states[g]); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	report()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRotateRefreshTokenFilledParallel(b *testing.B) {
	for _, n := range []int{16, 64} {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			s := filledStore(b)
			seq := new(atomic.Int64)
			callers(b, n, func(g int) *rotator { return newRotator(s, g+1, seq) },
				func(rt *rotator) error { return rt.rotate(b) })
		})
	}
}

// BenchmarkCreateTokensFilledParallel: new grants (the refresh token of a
// new family) from 16 callers.
func BenchmarkCreateTokensFilledParallel(b *testing.B) {
	s := filledStore(b)
	var seq, fam atomic.Int64
	callers(b, 16, func(g int) *rand.Rand { return rand.New(rand.NewPCG(uint64(g), 4)) },
		func(r *rand.Rand) error {
			f := filledFamilies + int(fam.Add(1))
			exp := benchNow.Add(24*time.Hour + time.Duration(seq.Add(1))*time.Microsecond)
			return s.CreateTokens(b.Context(), familyToken(randomID(r), storage.RefreshToken, f, exp))
		})
}

// BenchmarkClaimAuthCodeParallel: 16 callers claim codes, each of its own
// auth request.
func BenchmarkClaimAuthCodeParallel(b *testing.B) {
	s, ctx := openTemp(b), b.Context()
	codes := make([]string, b.N)
	parallel(b, b.N, func(i int) error {
		r := rand.New(rand.NewPCG(uint64(i), 6))
		ar := storage.AuthRequest{ID: randomID(r), ClientID: "web", Scopes: []string{"openid"}, RedirectURI: "https://rp.example/cb",
			State: randomID(r), Nonce: randomID(r), CreatedAt: benchNow, ExpiresAt: benchNow.Add(10 * time.Minute)}
		if err := s.CreateAuthRequest(ctx, ar); err != nil {
			return err
		}
		codes[i] = randomID(r)
		return s.SaveAuthCode(ctx, storage.AuthCode{Hash: codes[i], AuthRequestID: ar.ID, CreatedAt: benchNow, ExpiresAt: benchNow.Add(time.Minute)})
	})
	var next atomic.Int64
	callers(b, 16, func(int) struct{} { return struct{}{} }, func(struct{}) error {
		i := next.Add(1) - 1
		_, _, err := s.ClaimAuthCode(ctx, codes[i], benchNow)
		return err
	})
}

// BenchmarkUpdateSessionParallel: 16 callers each update the login state
// of their own session, among 10,000 (an update that changes no indexed
// field).
func BenchmarkUpdateSessionParallel(b *testing.B) {
	s, ctx := openTemp(b), b.Context()
	const n = 10000
	r := rand.New(rand.NewPCG(7, 8))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = randomID(r)
	}
	parallel(b, n, func(i int) error {
		return s.CreateSession(ctx, storage.Session{ID: ids[i], MemberID: fmt.Sprintf("m%04d", i%1000), Data: map[string]string{"csrf": ids[i]},
			CreatedAt: benchNow, LastSeenAt: benchNow, ExpiresAt: benchNow.Add(24 * time.Hour)})
	})
	step := func(x storage.Session) (storage.Session, error) {
		x.Data["step"] = "otp"
		x.LastSeenAt = x.LastSeenAt.Add(time.Second)
		return x, nil
	}
	callers(b, 16, func(g int) *int { return new(g) }, func(i *int) error {
		*i = (*i + 16) % n
		return s.UpdateSession(ctx, ids[*i], step)
	})
}

// BenchmarkOpenFilled: a read-write open of the pre-filled database, which
// rebuilds bbolt's free list by walking every page (see "Free list" in the
// package documentation).
func BenchmarkOpenFilled(b *testing.B) {
	s := filledStore(b)
	path := s.Path()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
}

// BenchmarkDeleteExpiredNothingDue: a janitor pass when nothing has
// expired, on the pre-filled database.
func BenchmarkDeleteExpiredNothingDue(b *testing.B) {
	s := filledStore(b)
	report := measureIO(b)
	for b.Loop() {
		if n, err := s.DeleteExpired(b.Context(), benchNow); err != nil || n != 0 {
			b.Fatal(n, err)
		}
	}
	report()
}
