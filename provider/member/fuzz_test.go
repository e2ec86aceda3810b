package member

import (
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"

	"tsubasa/storage"
)

// Seed corpora live in testdata/fuzz/<Name>; with plain go test every
// target runs on them (and on the f.Add seeds) as an ordinary test.

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1234567", "123-456-789", "１２３４５６７", "12", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		if err != nil {
			return
		}
		if len(n) != 7 && len(n) != 9 || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("ParseNumber(%q) = %q", s, n)
		}
		if again, err := ParseNumber(n); err != nil || again != n {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, n, again, err)
		}
	})
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"a@example.jp", ".a@example.jp", "a..b@example.jp", "a.@example.jp", "A <a@b.jp>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEmail(s)
		if err != nil {
			return
		}
		local, domain, ok := strings.Cut(e, "@")
		if !ok || local == "" || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") ||
			strings.Contains(local, "..") || domain != strings.ToLower(domain) {
			t.Fatalf("ParseEmail(%q) = %q", s, e)
		}
		if again, err := ParseEmail(e); err != nil || again != e {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, e, again, err)
		}
	})
}

func FuzzParsePhone(f *testing.F) {
	f.Add("090-1234-5678", "JP")
	f.Add("+1 201 555 0123", "")
	f.Add("0000", "ZZ")
	f.Fuzz(func(t *testing.T, s, region string) {
		p, err := ParsePhone(s, region)
		if err != nil {
			return
		}
		if len(p) < 3 || p[0] != '+' || strings.Trim(p[1:], "0123456789") != "" {
			t.Fatalf("ParsePhone(%q, %q) = %q", s, region, p)
		}
		if again, err := ParsePhone(p, ""); err != nil || again != p {
			t.Fatalf("E.164 form does not parse back: %q → %q, %v", p, again, err)
		}
	})
}

func FuzzPolicy(f *testing.F) {
	f.Add("Blue-Crane-42", "1234567", "Yamada")
	f.Add("とうきょう2024", "123456789", "山田太郎")
	f.Add("🛫🛬🛫🛬🛫🛬🛫a", "", "")
	f.Fuzz(func(t *testing.T, pw, number, name string) {
		p := DefaultPolicy()
		m := storage.Member{Number: number, FamilyNameLatin: name, GivenName: name}
		vs := p.Check(t.Context(), pw, m)
		known := map[string]bool{RuleLength: true, RuleClasses: true, RuleMemberNumber: true,
			RuleName: true, RuleCommon: true, RuleBreached: true}
		lengthBroken := false
		for _, v := range vs {
			if !known[v.Rule] {
				t.Fatalf("unknown rule %q", v.Rule)
			}
			lengthBroken = lengthBroken || v.Rule == RuleLength
		}
		if n := utf8.RuneCountInString(normalizePassword(pw)); (n < 8 || n > 128) != lengthBroken {
			t.Fatalf("length %d: violations %v", n, vs)
		}
	})
}

func FuzzImportRow(f *testing.F) {
	f.Add("1234567,山田,太郎,Yamada,Taro,taro@example.jp,090-1234-5678,JP,ja,,123456")
	f.Add(`123456789,,,Ito,,,,,en,"$2b$04$abcdefghijklmnopqrstuu9wHiE0yK1wBJvBh0Qv2m9cQ9GDTq1iK",`)
	f.Add("12,a,b,c,d,e,f,g,h,i,j")
	cols, err := importHeader(ImportColumns)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			return
		}
		get := func(c string) string {
			if i, ok := cols[c]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		v, err := parseImportRow(t.Context(), get, false)
		if err != nil {
			return
		}
		if _, err := ParseNumber(v.m.Number); err != nil || v.m.Number == "" {
			t.Fatalf("accepted number %q", v.m.Number)
		}
		if v.pin != "" && !isPINShape(v.pin) {
			t.Fatalf("accepted PIN %q", v.pin)
		}
		if v.passwordHash != "" && checkHashFormat(v.passwordHash) != nil {
			t.Fatalf("accepted hash %q", v.passwordHash)
		}
		if v.pin == "" && v.passwordHash == "" {
			t.Fatal("accepted a row without credential")
		}
	})
}
