package member

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// genCSV builds an import file of n members; bad maps a row index (0-based,
// after the header) to a replacement line. It returns the file and the line
// number each row starts on.
func genCSV(n int, bad map[int]string) string {
	var b strings.Builder
	b.WriteString("\ufeffNumber,family_name,given_name,family_name_latin,given_name_latin,email,phone,country,locale,pin\n")
	for i := range n {
		if line, ok := bad[i]; ok {
			b.WriteString(line + "\n")
			continue
		}
		fmt.Fprintf(&b, "%07d,山田,太郎%d,Yamada,Taro,taro%d@example.jp,090-1234-%04d,JP,ja,%06d\n",
			1000000+i, i, i, i%10000, i%1000000)
	}
	return b.String()
}

func TestImport(t *testing.T) {
	f := newFixture(t, nil)
	bc, _ := bcrypt.GenerateFromPassword([]byte("Legacy-Pass-9"), bcrypt.MinCost)
	bad := map[int]string{
		// Row 3 spans two lines (a quoted newline), so later rows start one
		// line further down than their index suggests.
		3:    `1000003,"山田` + "\n" + `次郎",Jiro,Yamada,Jiro,jiro@example.jp,,JP,ja,111111`,
		10:   "12345,山田,太郎,Yamada,Taro,t@example.jp,,JP,ja,123456",        // bad number
		20:   "1000001,山田,太郎,Yamada,Taro,dup@example.jp,,JP,ja,123456",    // duplicate of row 1
		30:   "1000030,山田,太郎,Yamada,Taro,taro..30@example.jp,,JP,ja,1234", // bad email (and PIN)
		40:   "1000040,山田,太郎,Yamada,Taro,t40@example.jp,,JP,ja,",          // no credential
		50:   "1000050,山田,太郎,Yamada,Taro,t50@example.jp,,JP",              // too few fields
		1999: "1001999,山田,太郎,Yamada,Taro,,,JP,ja,999999",                  // fine, no email
	}
	in := genCSV(2000, bad)
	// A second file adds password hashes, one malformed.
	in2 := "number,family_name_latin,password_hash\n" +
		"2000001,Ito,\"$argon2id$v=19$m=64,t=1,p=1$bad\"\n" +
		"2000002,Ito," + string(bc) + "\n"

	var progress bytes.Buffer
	rep, err := f.svc.Import(t.Context(), strings.NewReader(in), ImportOptions{BatchSize: 300, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	wantLines := []int{13, 23, 33, 43, 53} // row i starts at line i+2, +1 after the two-line row
	var gotLines []int
	for _, e := range rep.Errors {
		gotLines = append(gotLines, e.Line)
	}
	if !reflect.DeepEqual(gotLines, wantLines) {
		t.Errorf("error lines = %v, want %v\n%+v", gotLines, wantLines, rep.Errors)
	}
	for i, want := range []string{"number", "repeats line 3", "email", "no password_hash and no pin", "wrong number of fields"} {
		if i < len(rep.Errors) && !strings.Contains(rep.Errors[i].Reason, want) {
			t.Errorf("error %d reason %q, want it to mention %q", i, rep.Errors[i].Reason, want)
		}
	}
	if rep.Created != 1995 || rep.Skipped != 0 {
		t.Errorf("created %d, skipped %d", rep.Created, rep.Skipped)
	}
	if n, _ := f.store.CountMembers(t.Context()); n != 1995 {
		t.Errorf("store holds %d members", n)
	}
	if !strings.Contains(progress.String(), "imported 2000 rows: 1995 created, 0 skipped, 5 errors") {
		t.Errorf("progress output %q", progress.String())
	}

	m, err := f.store.MemberByNumber(t.Context(), "1000003")
	if err != nil || m.FamilyName != "山田 次郎" || m.EmailVerified || !m.MustChangePassword || m.PasswordHash != "" {
		t.Errorf("imported member: %+v, %v", m, err)
	}
	if res, err := f.svc.Authenticate(t.Context(), LoginInput{Number: "1000003", Secret: "111111"}); !strings.Contains(fmt.Sprint(err), "PIN") {
		t.Errorf("imported PIN on the web with no cutover: %+v, %v", res, err)
	}
	if r, err := f.svc.VerifyTelephonePIN(t.Context(), "1000003", "111111", ""); r != TelephoneVerified {
		t.Errorf("imported PIN on the telephone: %v, %v", r, err)
	}

	// Re-running creates nothing new.
	rep2, err := f.svc.Import(t.Context(), strings.NewReader(in), ImportOptions{})
	if err != nil || rep2.Created != 0 || rep2.Skipped != 1995 || len(rep2.Errors) != 5 {
		t.Errorf("re-run: %+v, %v", rep2, err)
	}

	rep3, err := f.svc.Import(t.Context(), strings.NewReader(in2), ImportOptions{})
	if err != nil || rep3.Created != 1 || len(rep3.Errors) != 1 || rep3.Errors[0].Line != 2 ||
		!strings.Contains(rep3.Errors[0].Reason, "hash") {
		t.Errorf("hash import: %+v, %v", rep3, err)
	}
	if _, err := f.login(t.Context(), "2000002", "Legacy-Pass-9"); err != nil {
		t.Errorf("login with imported bcrypt hash: %v", err)
	}
	// Rows with nothing to hash are not looked up first: the store's
	// refusal of the taken number makes them skipped all the same.
	rep4, err := f.svc.Import(t.Context(), strings.NewReader(in2), ImportOptions{})
	if err != nil || rep4.Created != 0 || rep4.Skipped != 1 || len(rep4.Errors) != 1 {
		t.Errorf("hash import re-run: %+v, %v", rep4, err)
	}
}

func TestImportHeader(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		header string
		want   []string
	}{
		{"number,pin,shoe_size,Colour", []string{`unknown columns "shoe_size", "colour"`}},
		{"family_name,pin", []string{"missing column number"}},
		{"number,email", []string{"missing column password_hash or pin"}},
		{"number,pin,pin", []string{"repeated columns pin"}},
	} {
		_, err := f.svc.Import(t.Context(), strings.NewReader(tc.header+"\n"), ImportOptions{})
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("header %q: %v, want mention of %s", tc.header, err, w)
			}
		}
	}
	if _, err := f.svc.Import(t.Context(), strings.NewReader(""), ImportOptions{}); err == nil {
		t.Error("empty input accepted")
	}
}

func TestImportProgress(t *testing.T) {
	defer func(n int) { progressEvery = n }(progressEvery)
	progressEvery = 100
	f := newFixture(t, nil)
	h, _ := NewHasher(cheapHash).Hash(t.Context(), "Some-Password-1")
	var b strings.Builder
	b.WriteString("number,family_name_latin,password_hash\n")
	for i := range 250 {
		fmt.Fprintf(&b, "%09d,Ito,%q\n", 100000000+i, h)
	}
	for _, tc := range []struct {
		terminal bool
		want     []string
	}{
		{false, []string{"imported 100 rows\n", "imported 200 rows\n", "imported 250 rows: 250 created"}},
		{true, []string{"importing members", "100%", "0 created, 250 skipped"}},
	} {
		var out bytes.Buffer
		in := b.String()
		_, err := f.svc.Import(t.Context(), strings.NewReader(in),
			ImportOptions{Progress: &out, Terminal: tc.terminal, Total: int64(len(in))})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("terminal=%v: output lacks %q:\n%s", tc.terminal, w, out.String())
			}
		}
	}
}

// Imported members' ids sort in the order they were made, so that an
// import appends to the member B-tree instead of dirtying a page per row;
// they keep the shape of other ids, and imported members get their
// WebAuthn handle with their first passkey.
func TestImportedIDsSortByTime(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	ids := func(from int) []string {
		t.Helper()
		var b strings.Builder
		b.WriteString("number,family_name_latin,pin\n")
		for i := range 50 {
			fmt.Fprintf(&b, "%07d,Ito,%06d\n", from+i, i)
		}
		rep, err := f.svc.Import(ctx, strings.NewReader(b.String()), ImportOptions{BatchSize: 20})
		if err != nil || rep.Created != 50 {
			t.Fatalf("import: %+v, %v", rep, err)
		}
		var out []string
		for i := range 50 {
			m, err := f.store.MemberByNumber(ctx, fmt.Sprintf("%07d", from+i))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.WebAuthnHandle) != 0 {
				t.Errorf("imported member %s has a WebAuthn handle before any passkey", m.Number)
			}
			if len(m.ID) != 26 || strings.Trim(m.ID, "0123456789abcdefghijklmnopqrstuv") != "" {
				t.Errorf("imported id %q: want 26 lower-case base32hex characters", m.ID)
			}
			out = append(out, m.ID)
		}
		return out
	}
	first := ids(3000000)
	f.clock.Advance(time.Millisecond)
	second := ids(3000100)
	seen := map[string]bool{}
	for _, id := range append(slices.Clone(first), second...) {
		if seen[id] {
			t.Errorf("id %s made twice", id)
		}
		seen[id] = true
	}
	if maxFirst, minSecond := slices.Max(first), slices.Min(second); maxFirst >= minSecond {
		t.Errorf("ids of a later import (least %s) do not sort after an earlier one's (greatest %s)", minSecond, maxFirst)
	}
	// Made in the same millisecond, ids differ in their random part.
	if first[0][:9] != first[1][:9] || first[0][9:] == first[1][9:] {
		t.Errorf("ids %s and %s: want one time prefix, different random parts", first[0], first[1])
	}
}
