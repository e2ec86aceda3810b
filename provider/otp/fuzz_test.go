package otp

import (
	"errors"
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/<Name>; with plain go test every
// target runs on them (and on the f.Add seeds) as an ordinary test.

// FuzzParsePictogramInput feeds form values (one per line) to the parser:
// it must not panic, and what it accepts must be a canonical code that
// parses to itself.
func FuzzParsePictogramInput(f *testing.F) {
	for _, s := range []string{"3\n17\n5\n29", "りんご ねこ くるま ほし", "ﾘﾝｺﾞ", "🍎(りんご)", "ＡＰＰＬＥ", "", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParsePictogramInput(strings.Split(s, "\n"))
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
			return
		}
		parts := strings.Split(c, ".")
		if len(parts) == 0 || len(parts) > maxPictogramLength {
			t.Fatalf("%q → %q: bad length", s, c)
		}
		for _, p := range parts {
			if !isDigits(p) || len(p) > 2 || (len(p) > 1 && p[0] == '0') {
				t.Fatalf("%q → %q: not canonical", s, c)
			}
		}
		if again, err := ParsePictogramInput([]string{c}); err != nil || again != c {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, c, again, err)
		}
	})
}

// FuzzVerifyInput enters arbitrary text against a digits and a pictogram
// challenge: Verify must not panic, must succeed only for the code itself
// (in some spelling), and must otherwise answer with a wrong-code error.
func FuzzVerifyInput(f *testing.F) {
	for _, s := range []string{"123456", "１２３４５６", "123 456", "", "0.1.2.3", "りんご ねこ いぬ ほし", "\x00", strings.Repeat("9", 5000)} {
		f.Add(s)
	}
	fx := newFixture(f, func(o *Options) {
		o.MaxAttempts = 1 << 30 // every input is a fresh try
		o.Formats = map[string]string{PurposeStepUp: FormatPictogram}
	})
	fx.issue(f, IssueRequest{})
	digits := fx.codeFromMail(f)
	fx.issue(f, IssueRequest{Purpose: PurposeStepUp})
	pics := fx.codeFromMail(f)
	f.Fuzz(func(t *testing.T, input string) {
		for _, c := range []struct{ purpose, format, code string }{
			{PurposeLogin, FormatDigits, digits}, {PurposeStepUp, FormatPictogram, pics},
		} {
			_, err := fx.svc.Verify(t.Context(), "m-hanako", c.purpose, input, "")
			canonical, ok := canonicalInput(c.format, input, fx.svc.Length(c.format))
			right := ok && canonical == c.code
			var ice *InvalidCodeError
			switch {
			case err == nil && !right:
				t.Fatalf("%s: %q accepted for code %q", c.purpose, input, c.code)
			case err == nil, errors.Is(err, ErrConsumed):
				// the fuzzer found the code (or found it earlier)
			case errors.As(err, &ice):
				if ice.Malformed == ok {
					t.Fatalf("%s: %q: malformed=%v but canonicalInput ok=%v", c.purpose, input, ice.Malformed, ok)
				}
			default:
				t.Fatalf("%s: %q: unexpected %v", c.purpose, input, err)
			}
		}
	})
}
