package member

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestImportJSONLines: JSON lines carry the same columns as CSV, one
// object per line; a bad line is reported by its number and the import
// goes on; numbers may be JSON numbers; Report sees each batch.
func TestImportJSONLines(t *testing.T) {
	f := newFixture(t, nil)
	long := `{"number":"1000009","family_name_latin":"` + strings.Repeat("A", maxImportLine) + `","pin":"123456"}`
	in := strings.Join([]string{
		`{"number":"1000001","family_name":"山田","given_name":"花子","email":"hanako@example.jp","country":"JP","pin":"111111"}`,
		`{"number":1000002,"family_name_latin":"Ito","pin":222222}`,
		``,
		`not json`,
		`{"number":"1000004","family_name_latin":"Sato","pin":"444444","nickname":"x"}`,
		`{"number":"1000005","family_name_latin":"Kato","pin":["5"]}`,
		long,
		`{"number":"1000001","family_name_latin":"Dup","pin":"111111"}`,
		`{"number":"1000006","family_name_latin":"Abe","pin":"666666","email":null}`,
	}, "\n") // no newline after the last line
	var reports []int
	rep, err := f.svc.Import(t.Context(), strings.NewReader(in), ImportOptions{Format: FormatJSONLines, BatchSize: 2,
		Report: func(rows int, r ImportReport) { reports = append(reports, r.Created) }})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rep.Errors {
		got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Reason))
	}
	want := []string{"4:not a JSON object", `5:unknown field "nickname"`, "6:field pin: must be a string",
		fmt.Sprintf("7:line longer than %d bytes", maxImportLine), "8:number 1000001 repeats line 1"}
	if len(got) != len(want) {
		t.Fatalf("errors %q, want %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d: %q, want it to start %q", i, got[i], want[i])
		}
	}
	if rep.Created != 3 {
		t.Errorf("created %d, want 3", rep.Created)
	}
	if !slices.Equal(reports, []int{2, 3}) {
		t.Errorf("Report saw created counts %v, want [2 3]: a call per batch", reports)
	}
	m, err := f.store.MemberByNumber(t.Context(), "1000002")
	if err != nil || m.FamilyNameLatin != "ITO" || m.PINHash == "" {
		t.Errorf("member from JSON numbers: %+v, %v", m, err)
	}
}

// TestImportUnknownFormat: a format that is neither CSV nor JSON lines is
// refused before anything is read.
func TestImportUnknownFormat(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.svc.Import(t.Context(), strings.NewReader("x"), ImportOptions{Format: "xml"}); err == nil ||
		!strings.Contains(err.Error(), "unknown format") {
		t.Errorf("Import(xml) = %v", err)
	}
}
