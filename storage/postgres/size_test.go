package postgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
	"tsubasa/storage/storagetest"
)

// BenchmarkBytesPerRecord stores records as the server writes them (a
// member with every field a real one has, its argon2id hash, a device, a
// session, a refresh token, a consent and login events) for sizeMembers
// members through the store, and reports what each kind takes on disk,
// table and indexes together (pg_total_relation_size over the rows): the
// figures the README's sizing multiplies. The time per op is that of the
// size query, not of anything the server does.
//
//	go test -run '^$' -bench BytesPerRecord -benchtime 1x ./storage/postgres
func BenchmarkBytesPerRecord(b *testing.B) {
	const sizeMembers = 20000
	url := newDB(b)
	s, ctx := openAt(b, url, postgres.Options{MaxConns: 16}), b.Context()
	hash := "$argon2id$v=19$m=19456,t=2,p=1$" + rand.Text()[:22] + "$" + rand.Text() + rand.Text()[:11]
	now := benchNow
	for batch := 0; batch < sizeMembers; batch += 1000 {
		ms := make([]storage.Member, 1000)
		for i := range ms {
			n := batch + i
			handle := make([]byte, 64)
			_, _ = rand.Read(handle)
			ms[i] = storage.Member{ID: fmt.Sprintf("%026d", n), // as long as the server's random ids
				Number:     fmt.Sprintf("%09d", 100000000+n),
				FamilyName: "山田", GivenName: "花子", FamilyNameLatin: "YAMADA", GivenNameLatin: "HANAKO",
				Email: fmt.Sprintf("hanako.yamada%d@example.co.jp", n), EmailVerified: true, Phone: fmt.Sprintf("+8190%08d", n),
				Country: "JP", Locale: "ja", OTPChannel: storage.ChannelEmail, Status: storage.MemberActive,
				PasswordHash: hash, PINHash: hash, PasswordChangedAt: now, SecurityStamp: rand.Text(),
				WebAuthnHandle: handle, CreatedAt: now}
		}
		errs, err := s.CreateMembers(ctx, ms)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		var ts []storage.Token
		for i, m := range ms {
			n, id := batch+i, m.ID
			dev := storage.Device{ID: rand.Text()[:22], MemberID: id, Type: "mobile", Model: "iPhone", OS: "iOS",
				OSVersion: "18.1", Browser: "Safari", BrowserVersion: "18.1", FirstSeenAt: now, LastSeenAt: now, LastIP: "203.0.113.7"}
			if err := s.PutDevice(ctx, dev); err != nil {
				b.Fatal(err)
			}
			sess := storage.Session{ID: rand.Text(), MemberID: id, DeviceID: dev.ID, AuthTime: now, ACR: "urn:tsubasa:acr:pwd",
				AMR: []string{"pwd"}, IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
				CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}
			if err := s.CreateSession(ctx, sess); err != nil {
				b.Fatal(err)
			}
			ts = append(ts, storage.Token{ID: rand.Text() + rand.Text()[:17], Kind: storage.RefreshToken, ClientID: "member-website",
				MemberID: id, Subject: id, Audience: []string{"member-website"},
				Scopes: []string{"openid", "profile", "email", "membership", "offline_access"}, AuthTime: now,
				ACR: "urn:tsubasa:acr:pwd", AMR: []string{"pwd"}, SessionID: sess.ID, FamilyID: rand.Text(),
				AuthRequestID: rand.Text(), CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)})
			if err := s.PutConsent(ctx, storage.Consent{MemberID: id, ClientID: "partner-hotels",
				Scopes: []string{"openid", "profile", "membership"}, CreatedAt: now, UpdatedAt: now}); err != nil {
				b.Fatal(err)
			}
			for k := range 2 { // a login's events: the success and the new device
				// Times apart, as real events' are: an index on the
				// time would otherwise deduplicate them.
				when := now.Add(time.Duration(2*n+k) * time.Millisecond)
				if err := s.AppendEvent(ctx, storage.Event{ID: fmt.Sprintf("%s-%d-%d", rand.Text(), n, k), Time: when,
					Type: "login.succeeded", MemberID: id, ClientID: "member-website", DeviceID: dev.ID, IP: "203.0.113.7",
					UserAgent: sess.UserAgent, Method: "pwd", Success: true}); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := s.CreateTokens(ctx, ts...); err != nil {
			b.Fatal(err)
		}
	}
	tables := []struct {
		name string
		rows float64
	}{{"members", sizeMembers}, {"devices", sizeMembers}, {"sessions", sizeMembers},
		{"tokens", sizeMembers}, {"consents", sizeMembers}, {"events", 2 * sizeMembers}}
	for b.Loop() {
		for _, tb := range tables {
			size, err := relationSize(ctx, url, tb.name)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(size)/tb.rows, "B/"+tb.name[:len(tb.name)-1])
		}
	}
}

// relationSize is what table takes on disk with its indexes and TOAST.
func relationSize(ctx context.Context, url, table string) (int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass)", table).Scan(&n)
	return n, err
}

// BenchmarkBytesPerConsumedToken stores sizeTokens refresh tokens as the
// server writes them, rotates every one (sixteen callers at once), deletes
// the live successors with plain SQL (no revocation recorded) and reports
// what a live token and a consumed one take on disk, table and indexes
// together. Both are measured after VACUUM FULL, so that neither counts
// the dead row versions a rotation leaves for vacuum, nor index pages
// half-filled by random inserts: the two compare, and are a lower bound of
// what a busy table holds.
//
//	go test -run '^$' -bench BytesPerConsumedToken -benchtime 1x ./storage/postgres
func BenchmarkBytesPerConsumedToken(b *testing.B) {
	const sizeTokens = 20000
	url := newDB(b)
	s, ctx := openAt(b, url, postgres.Options{MaxConns: 16}), b.Context()
	now := benchNow
	refreshID := func(i int) string { return storagetest.RefreshTokenID(now.Add(time.Duration(i) * time.Millisecond)) }
	live := make([]storage.Token, sizeTokens)
	for i := range live {
		id := fmt.Sprintf("%026d", i)
		live[i] = storagetest.GrantToken(refreshID(i), id, rand.Text(), rand.Text(), rand.Text(), now)
	}
	for i := 0; i < len(live); i += 1000 {
		if err := s.CreateTokens(ctx, live[i:i+1000]...); err != nil {
			b.Fatal(err)
		}
	}
	full := compactSize(b, url, "tokens")
	var wg sync.WaitGroup
	errs := make(chan error, len(live))
	sem := make(chan struct{}, 16)
	for i, t := range live {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			next := t
			next.ID = refreshID(sizeTokens + i)
			if _, err := s.RotateRefreshToken(ctx, t.ID, now, next); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if err := execAt(ctx, url, "DELETE FROM tokens WHERE NOT consumed"); err != nil {
		b.Fatal(err)
	}
	consumed := compactSize(b, url, "tokens")
	for b.Loop() {
		b.ReportMetric(float64(full)/sizeTokens, "B/token")
		b.ReportMetric(float64(consumed)/sizeTokens, "B/consumed_token")
	}
}

// BenchmarkRotateWAL reports the WAL one refresh token rotation writes
// (pg_current_wal_lsn before and after b.N rotations of tokens as the
// server writes them, issued before, one caller). The test cluster runs without
// full-page writes, so a checkpoint's page images are not counted.
//
//	go test -run '^$' -bench RotateWAL -benchtime 5000x ./storage/postgres
func BenchmarkRotateWAL(b *testing.B) {
	url := newDB(b)
	s, ctx := openAt(b, url, postgres.Options{}), b.Context()
	now := benchNow
	grant := func(id string) storage.Token {
		return storagetest.GrantToken(id, "m1", "s1", "f1", "ar1", now)
	}
	key := func(i int) string { return fmt.Sprintf("%016x.%064x", uint64(now.UnixNano())+uint64(i), i) }
	// The tokens rotated were issued earlier, on pages their successors
	// filled since (the table's fillfactor is 100): their new version
	// rarely finds room on its page, as in a busy table.
	const issued = 10000
	for i := 0; i < issued; i += 1000 {
		ts := make([]storage.Token, 1000)
		for j := range ts {
			ts[j] = grant(key(i + j))
		}
		if err := s.CreateTokens(ctx, ts...); err != nil {
			b.Fatal(err)
		}
	}
	lsn := func() int64 {
		var n int64
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn() - '0/0'").Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	start, i := lsn(), 0
	for b.Loop() {
		if i == issued {
			b.Fatalf("run at most %dx", issued)
		}
		if _, err := s.RotateRefreshToken(ctx, key(i), now, grant(key(issued+i))); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(lsn()-start)/float64(i), "WAL_B/rotation")
}

// compactSize is relationSize after VACUUM FULL of table.
func compactSize(b *testing.B, url, table string) int64 {
	b.Helper()
	if err := execAt(b.Context(), url, "VACUUM FULL "+table); err != nil {
		b.Fatal(err)
	}
	n, err := relationSize(b.Context(), url, table)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func execAt(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
