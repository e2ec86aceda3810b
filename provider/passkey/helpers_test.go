package passkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/storagetest"
)

const (
	testRPID   = "id.sora-air.example"
	testOrigin = "https://id.sora-air.example"
	chromeUA   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"
)

// fixture is a Service on a fresh bolt file, a test clock, the relying
// party as the virtual authenticator sees it, and two members.
type fixture struct {
	svc      *Service
	store    storage.Store
	clock    *storagetest.Clock
	rp       virtualwebauthn.RelyingParty
	alice    storage.Member
	bob      storage.Member
	disabled storage.Member
}

func newFixture(t testing.TB, tweak func(*Options)) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "tsubasa.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st, tweak)
}

// newFixtureOn is newFixture on a store of the test's choosing.
func newFixtureOn(t testing.TB, st storage.Store, tweak func(*Options)) *fixture {
	t.Helper()
	c := storagetest.NewClock(time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC))
	o := Options{
		RPID:          testRPID,
		RPDisplayName: "Sora Air Mileage Club",
		Origins:       []string{testOrigin},
		Now:           c.Now,
		Logger:        slog.New(slog.DiscardHandler),
	}
	if tweak != nil {
		tweak(&o)
	}
	svc, err := New(st, o)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		svc: svc, store: st, clock: c,
		rp: virtualwebauthn.RelyingParty{ID: testRPID, Name: o.RPDisplayName, Origin: testOrigin},
	}
	f.alice = f.member(t, "m-alice", "1234567", "山田", "花子", storage.MemberActive)
	f.bob = f.member(t, "m-bob", "7654321", "佐藤", "太郎", storage.MemberActive)
	f.disabled = f.member(t, "m-gone", "1111111", "鈴木", "一郎", storage.MemberDisabled)
	return f
}

func (f *fixture) member(t testing.TB, id, number, family, given string, status storage.MemberStatus) storage.Member {
	t.Helper()
	m := storage.Member{
		ID: id, Number: number, FamilyName: family, GivenName: given,
		Status: status, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now(),
	}
	if err := f.store.CreateMember(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// device is a virtual authenticator holding one credential.
type device struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newDevice(opts virtualwebauthn.AuthenticatorOptions) *device {
	return &device{
		auth: virtualwebauthn.NewAuthenticatorWithOptions(opts),
		cred: virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, p256Key()),
	}
}

// p256Key returns a PKCS#8 P-256 key whose coordinates both have a non-zero
// first byte: virtualwebauthn writes them with big.Int.Bytes, which drops
// leading zeros, and go-webauthn rightly refuses a coordinate shorter than
// 32 bytes (about one key in 128 would fail the test at random).
func p256Key() []byte {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			panic(err)
		}
		if pub[1] == 0 || pub[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return der
	}
}

// attest answers registration options as navigator.credentials.create
// would, remembering the user handle for later assertions.
func (f *fixture) attest(t testing.TB, d *device, options []byte) []byte {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	if d.cred.IsExcludedForAttestation(*opts) {
		t.Fatal("credential is in excludeCredentials")
	}
	d.auth.Options.UserHandle = []byte(opts.UserID)
	return []byte(virtualwebauthn.CreateAttestationResponse(f.rp, d.auth, d.cred, *opts))
}

// assert answers login options as navigator.credentials.get would.
func (f *fixture) assert(t testing.TB, d *device, options []byte) []byte {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(virtualwebauthn.CreateAssertionResponse(f.rp, d.auth, d.cred, *opts))
}

// register runs a whole registration of d for m and fails the test on error.
func (f *fixture) register(t testing.TB, m storage.Member, d *device, name string) storage.Passkey {
	t.Helper()
	options, state, err := f.svc.BeginRegistration(t.Context(), m)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.FinishRegistration(t.Context(), m, state, f.attest(t, d, options), name, chromeUA)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return p
}

// login runs a whole login with d.
func (f *fixture) login(t testing.TB, d *device) (storage.Member, storage.Passkey, []string, error) {
	t.Helper()
	options, state, err := f.svc.BeginLogin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.FinishLogin(t.Context(), state, f.assert(t, d, options))
}

// withExtensions adds clientExtensionResults to a response, as browsers do.
func withExtensions(t testing.TB, response []byte, ext map[string]any) []byte {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(response, &v); err != nil {
		t.Fatal(err)
	}
	v["clientExtensionResults"] = ext
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decode unmarshals JSON options for inspection.
func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
