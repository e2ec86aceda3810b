package bolt_test

import (
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// The import benchmarks write batches of new members into a database that
// already holds importFixtureMembers (the figure: 20,000 imported
// members a second with a million stored), as the admin API's import
// does: one CreateMembers call per batch of the default size. The rows
// are those of the load command's admin-import scenario: a fresh 9-digit
// number, Latin names, country, locale and a pre-hashed password.
//
//	go test -run '^$' -bench CreateMembersFilled -benchtime 20x -count 5 ./storage/bolt
//
// The fixture is built once per run (its time is logged) and copied for
// each benchmark, which then pays for its own writes only.

const importFixtureMembers = 1_000_000

var importFixture struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// importHash is the shape of the PHC string an import carries.
const importHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

var lowerBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomMemberID is a member id as the member package made them before
// ids were ordered: 16 random bytes, lower-case base32. The fixture's
// million members have such ids, as a store that grew before the change.
func randomMemberID(r *rand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], r.Uint64())
	return strings.ToLower(lowerBase32.EncodeToString(b[:]))
}

var orderedBase32 = base32.HexEncoding.WithPadding(base32.NoPadding)

// orderedMemberID is a member id as the member package makes them (see
// member.newMemberID): the time in milliseconds, then 10 random bytes, in
// lower-case base32hex, whose order is the bytes' order.
func orderedMemberID(r *rand.Rand, t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	binary.LittleEndian.PutUint64(b[6:14], r.Uint64())
	binary.LittleEndian.PutUint16(b[14:], uint16(r.Uint32()))
	return strings.ToLower(orderedBase32.EncodeToString(b[:]))
}

func randomHandle(r *rand.Rand) []byte {
	b := make([]byte, 64)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b
}

// fixtureMember is member i of the fixture: a member who has logged in
// (a WebAuthn handle, an email address).
func fixtureMember(r *rand.Rand, i int) storage.Member {
	return storage.Member{
		ID: randomMemberID(r), Number: fmt.Sprintf("%09d", 100_000_000+i),
		FamilyName: "山田", GivenName: "花子", FamilyNameLatin: "YAMADA", GivenNameLatin: "HANAKO",
		Email: fmt.Sprintf("member%d@example.jp", i), EmailVerified: true, Country: "JP", Locale: "ja",
		Status: storage.MemberActive, PasswordHash: importHash, PasswordChangedAt: benchNow,
		SecurityStamp: randomMemberID(r), WebAuthnHandle: randomHandle(r),
		CreatedAt: benchNow, UpdatedAt: benchNow,
	}
}

// importFixtureStore opens a copy of the fixture.
func importFixtureStore(b *testing.B) *bolt.Store {
	b.Helper()
	importFixture.once.Do(func() {
		start := time.Now()
		importFixture.dir, importFixture.err = os.MkdirTemp("", "tsubasa-import-bench-")
		if importFixture.err != nil {
			return
		}
		importFixture.path = filepath.Join(importFixture.dir, "fixture.db")
		s, err := bolt.Open(importFixture.path, bolt.Options{})
		if err == nil {
			err = s.Close()
		}
		if err != nil {
			importFixture.err = err
			return
		}
		r := rand.New(rand.NewPCG(3, 4))
		ms := make([]storage.Member, importFixtureMembers)
		for i := range ms {
			ms[i] = fixtureMember(r, i)
		}
		importFixture.err = bolt.BulkLoadMembers(importFixture.path, ms)
		fi, _ := os.Stat(importFixture.path)
		b.Logf("fixture: %d members, %d MiB, built in %s", len(ms), fi.Size()>>20, time.Since(start).Round(time.Millisecond))
	})
	if importFixture.err != nil {
		b.Fatal(importFixture.err)
	}
	path := filepath.Join(b.TempDir(), "tsubasa.db")
	if err := copyFile(path, importFixture.path); err != nil {
		b.Fatal(err)
	}
	return openAt(b, path, bolt.Options{})
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	// Synced here, or the benchmark's first commit would wait for the
	// kernel to write the whole copy (fdatasync flushes all of a file).
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// importRows returns batch new members numbered from first, as the
// import makes them: ids from id, a WebAuthn handle only when handle.
func importRows(r *rand.Rand, first, batch int, id func(*rand.Rand) string, handle bool) []storage.Member {
	ms := make([]storage.Member, batch)
	for i := range ms {
		ms[i] = storage.Member{
			ID: id(r), Number: fmt.Sprintf("%09d", first+i),
			FamilyNameLatin: "SATO", GivenNameLatin: "TARO", Country: "JP", Locale: "ja",
			Status: storage.MemberActive, PasswordHash: importHash, PasswordChangedAt: benchNow,
			SecurityStamp: randomMemberID(r), CreatedAt: benchNow, UpdatedAt: benchNow,
		}
		if handle {
			ms[i].WebAuthnHandle = randomHandle(r)
		}
	}
	return ms
}

// BenchmarkCreateMembersFilled: one op is one batch; ns/row is the figure
// to compare with the 50,000 ns (20,000 members a second).
func BenchmarkCreateMembersFilled(b *testing.B) {
	random := func(r *rand.Rand) string { return randomMemberID(r) }
	ordered := func(r *rand.Rand) string { return orderedMemberID(r, time.Now()) }
	for _, c := range []struct {
		name   string
		id     func(*rand.Rand) string
		handle bool
		batch  int
	}{
		{"ids=random,handle=yes,batch=1000", random, true, 1000},
		{"ids=ordered,handle=yes,batch=1000", ordered, true, 1000},
		{"ids=ordered,handle=no,batch=1000", ordered, false, 1000},
		{"ids=ordered,handle=no,batch=5000", ordered, false, 5000},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := importFixtureStore(b)
			r := rand.New(rand.NewPCG(5, uint64(time.Now().UnixNano())))
			next := 500_000_000
			report := measureIO(b)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				ms := importRows(r, next, c.batch, c.id, c.handle)
				next += c.batch
				b.StartTimer()
				errs, err := s.CreateMembers(b.Context(), ms)
				if err != nil {
					b.Fatal(err)
				}
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			report()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*c.batch), "ns/row")
		})
	}
}
