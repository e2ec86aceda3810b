package bolt

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"tsubasa/storage"
)

func TestTimeKeySortsInTimeOrder(t *testing.T) {
	times := []time.Time{
		{}, // zero: before everything
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), // before the UnixNano range
		time.Unix(-1, 999_999_999),
		time.Unix(0, 0),
		time.Unix(0, 1),
		time.Date(2025, 4, 1, 9, 0, 0, 0, time.FixedZone("JST", 9*3600)),
		time.Date(2025, 4, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), // after it
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Unix(math.MaxInt64/2, 0),
	}
	for i := 1; i < len(times); i++ {
		a, b := appendTimeKey(nil, times[i-1]), appendTimeKey(nil, times[i])
		if len(a) != timeKeyLen {
			t.Fatalf("key length %d, want %d", len(a), timeKeyLen)
		}
		want := times[i-1].Compare(times[i])
		if got := bytes.Compare(a, b); got != want {
			t.Errorf("compare(%v, %v) = %d on keys, %d on times", times[i-1], times[i], got, want)
		}
	}
}

func TestIkeyPrefixesDoNotOverlap(t *testing.T) {
	if bytes.HasPrefix(ikey("m10", []byte("x")), iprefix("m1")) {
		t.Error("member m1's prefix matches a key of member m10")
	}
	if bytes.HasPrefix(ikey("a\x00b", []byte("x")), iprefix("a")) {
		t.Error("a prefix matches a key of a longer value containing NUL")
	}
	field, rest := splitIkey(ikey("m1", []byte("d1")))
	if field != "m1" || string(rest) != "d1" {
		t.Errorf("splitIkey = %q, %q", field, rest)
	}
}

func TestEncodingIsVersionedUTCJSON(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	in := storage.Session{ID: "s1", CreatedAt: time.Date(2025, 4, 1, 9, 0, 0, 0, jst)}
	data, err := encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if data[0] != schemaVersion || !bytes.Contains(data, []byte(`"2025-04-01T00:00:00Z"`)) {
		t.Fatalf("encoded %q", data)
	}
	var out storage.Session
	if err := decode(data, &out); err != nil {
		t.Fatal(err)
	}
	if !out.CreatedAt.Equal(in.CreatedAt) || out.CreatedAt.Location() != time.UTC {
		t.Errorf("decoded %v", out.CreatedAt)
	}
	data[0] = schemaVersion + 1
	if err := decode(data, &out); err == nil {
		t.Error("decoded a record of an unknown schema version")
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ in, want []byte }{
		{[]byte("ab"), []byte("ac")},
		{[]byte{'a', 0xff}, []byte("b")},
		{[]byte{0xff, 0xff}, nil},
	} {
		if got := prefixEnd(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("prefixEnd(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestEncodeWritesVersionAndMarshal: encode's bytes are the schema version
// byte and then exactly what json.Marshal writes for the record in UTC (the
// on-disk format does not depend on how encode builds them).
func TestEncodeWritesVersionAndMarshal(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	tok := storage.Token{
		ID: "t<1>&\u2028", Kind: storage.RefreshToken, ClientID: "web", MemberID: "山田", Subject: "s",
		Audience: []string{"web"}, Scopes: []string{"openid"}, AMR: []string{"pwd"},
		AuthTime: time.Date(2025, 4, 1, 9, 0, 0, 123, jst), CreatedAt: time.Date(2025, 4, 1, 9, 0, 0, 0, jst),
	}
	got, err := encode(tok)
	if err != nil {
		t.Fatal(err)
	}
	utc := tok
	utc.AuthTime, utc.CreatedAt, utc.ExpiresAt = tok.AuthTime.UTC(), tok.CreatedAt.UTC(), tok.ExpiresAt.UTC()
	want, err := json.Marshal(utc)
	if err != nil {
		t.Fatal(err)
	}
	if want = append([]byte{schemaVersion}, want...); !bytes.Equal(got, want) {
		t.Fatalf("encode = %q\nwant    %q", got, want)
	}
	if tok.AuthTime.Location() != jst {
		t.Error("encode changed its argument")
	}
}

func BenchmarkEncodeToken(b *testing.B) {
	at := time.Date(2025, 4, 1, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	t := storage.Token{
		ID: "Yx3bq8kq0cS9N2kq6mXf0jvVdL8m3h3oW9u1c2QeT0A", Kind: storage.RefreshToken, ClientID: "client-3", MemberID: "m01234", Subject: "m01234",
		Audience: []string{"client-3"}, Scopes: []string{"openid", "profile", "offline_access"},
		AuthTime: at, ACR: "urn:tsubasa:acr:pwd", AMR: []string{"pwd"},
		SessionID: "sess-000123", FamilyID: "fam-000123", AuthRequestID: "ar-000123",
		CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour),
	}
	for b.Loop() {
		if _, err := encode(t); err != nil {
			b.Fatal(err)
		}
	}
}
