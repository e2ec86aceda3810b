package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
)

// Code formats, as in the otp.formats configuration.
const (
	FormatDigits    = "digits"
	FormatPictogram = "pictogram"
)

// DigitsLength is the length of a digits code.
const DigitsLength = 6

// minCombinations is the least number of codes a format may have: a guess
// with five attempts per code then succeeds with odds of 1 in 200,000.
const minCombinations = 1_000_000

// code is a freshly generated secret. It exists only between generation
// and delivery, and redacts itself if it ever reaches a log or %v.
type code struct {
	digits string
	pics   []int // indices into pictograms; nil for digits
}

func (c code) canonical() string {
	if c.pics != nil {
		return canonicalPictograms(c.pics)
	}
	return c.digits
}

func (code) String() string             { return "[redacted]" }
func (code) GoString() string           { return "[redacted]" }
func (code) LogValue() slog.Value       { return slog.StringValue("[redacted]") }
func (code) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }

// newCode draws a code of format from crypto/rand, every value equally
// likely.
func newCode(format string, pictogramLength int) (code, error) {
	if format == FormatPictogram {
		pics := make([]int, pictogramLength)
		for i := range pics {
			n, err := uniform(uint32(len(pictograms)))
			if err != nil {
				return code{}, err
			}
			pics[i] = int(n)
		}
		return code{pics: pics}, nil
	}
	n, err := uniform(1_000_000)
	if err != nil {
		return code{}, err
	}
	return code{digits: fmt.Sprintf("%06d", n)}, nil
}

// uniform returns a number in [0, n) without modulo bias: 32-bit draws at
// or above the largest multiple of n are rejected and drawn again.
func uniform(n uint32) (uint32, error) {
	const space = 1 << 32
	limit := uint64(space - space%uint64(n))
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("otp: random: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); uint64(v) < limit {
			return v % n, nil
		}
	}
}

// combinations is the size of the code space of a format.
func combinations(format string, pictogramLength int) float64 {
	if format == FormatPictogram {
		c := 1.0
		for range pictogramLength {
			c *= float64(len(pictograms))
		}
		return c
	}
	return 1e6
}

// canonicalInput turns what the member entered into the canonical code of
// format, or reports that it cannot be one (and so is not worth an
// attempt).
func canonicalInput(format, input string, pictogramLength int) (string, bool) {
	if len(input) > 1024 {
		return "", false
	}
	if format == FormatPictogram {
		c, err := ParsePictogramInput([]string{input})
		if err != nil || strings.Count(c, ".")+1 != pictogramLength {
			return "", false
		}
		return c, true
	}
	var b strings.Builder
	for _, r := range input {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune(r - '０' + '0')
		case r == ' ' || r == '\u3000' || r == '\t' || r == '-' || r == '\u2010' || r == '\u2212' || r == 'ー' || r == '－':
			// grouping a member may type: "123 456", "123-456"
		default:
			return "", false
		}
	}
	if b.Len() != DigitsLength {
		return "", false
	}
	return b.String(), true
}

// mac is what is stored for a code: HMAC-SHA-256 over the purpose, the
// member and the canonical code, so a stored hash is useless for any other
// member or purpose.
func (s *Service) mac(purpose, memberID, canonical string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(memberID))
	h.Write([]byte{0})
	h.Write([]byte(canonical))
	return h.Sum(nil)
}
