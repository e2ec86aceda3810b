package passkey

import (
	"log/slog"
	"testing"

	"github.com/descope/virtualwebauthn"
)

// BenchmarkFinishLogin measures verifying an assertion and storing the
// updated passkey (one bolt commit with fsync per login). States and
// responses are prepared outside the timed loop since each is single-use.
func BenchmarkFinishLogin(b *testing.B) {
	f := newFixture(b, func(o *Options) { o.Logger = slog.New(slog.DiscardHandler) })
	d := newDevice(virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true})
	f.register(b, f.alice, d, "")
	type ceremony struct {
		state    string
		response []byte
	}
	cs := make([]ceremony, b.N)
	for i := range cs {
		options, state, err := f.svc.BeginLogin(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		cs[i] = ceremony{state, f.assert(b, d, options)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range cs {
		if _, _, _, err := f.svc.FinishLogin(b.Context(), cs[i].state, cs[i].response); err != nil {
			b.Fatal(err)
		}
	}
}
