package config

import (
	"math"
	"testing"
)

func TestContrastWithWhite(t *testing.T) {
	for _, tt := range []struct {
		colour string
		want   float64
	}{
		{"#000000", 21},
		{"#fff", 1},
		{"#0b3d91", 10.04}, // the default brand blue
		{"#767676", 4.54},  // the lightest grey that passes
	} {
		if got := contrastWithWhite(tt.colour); math.Abs(got-tt.want) > 0.05 {
			t.Errorf("contrastWithWhite(%s) = %.2f, want %.2f", tt.colour, got, tt.want)
		}
	}
}
