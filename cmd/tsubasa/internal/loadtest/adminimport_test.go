package loadtest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
)

// TestImportBodiesCoverTheRangeOnce: the bodies of an admin-import run
// hold every number of the range exactly once, as wide as --member, the
// last body the rest, none past it; every row carries the one argon2id
// PHC string (quoted: it holds commas).
func TestImportBodiesCoverTheRangeOnce(t *testing.T) {
	r := &importRun{hash: phcHash("x"), width: 9, first: 500000000, total: 25, batch: 10}
	if !strings.HasPrefix(r.hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Count(r.hash, "$") != 5 {
		t.Fatalf("hash %q is not an argon2id PHC string", r.hash)
	}
	seen := map[string]bool{}
	for i, want := range []int{10, 10, 5} {
		recs, err := csv.NewReader(bytes.NewReader(r.body(i))).ReadAll()
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		if got := len(recs) - 1; got != want || recs[0][0] != "number" || recs[0][5] != "password_hash" {
			t.Fatalf("body %d: %d rows (want %d), header %v", i, got, want, recs[0])
		}
		for _, rec := range recs[1:] {
			if seen[rec[0]] || len(rec[0]) != 9 || rec[5] != r.hash {
				t.Errorf("body %d row %v: repeated, not 9 digits, or not the hash", i, rec)
			}
			seen[rec[0]] = true
		}
	}
	for n := 500000000; n < 500000025; n++ {
		if !seen[fmt.Sprint(n)] {
			t.Errorf("number %d in no body", n)
		}
	}
	if b := r.body(3); b != nil {
		t.Errorf("a body past the range: %q", b)
	}
}
