package worker

import (
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"fits", 10, []string{"abc", "def"}, "abc" + "def"},
		{"exactly full", 6, []string{"abc", "def"}, "abcdef"},
		{"wraps", 5, []string{"abc", "def", "gh"}, "[sparkq: output truncated, first 3 bytes dropped, last 5 kept]\ndefgh"},
		{"one big write", 4, []string{"0123456789"}, "[sparkq: output truncated, first 6 bytes dropped, last 4 kept]\n6789"},
		{"many small", 3, strings.Split("abcdefghij", ""), "[sparkq: output truncated, first 7 bytes dropped, last 3 kept]\nhij"},
		// "é" is two bytes: a cut through it drops the orphan half too.
		{"utf8 boundary", 4, []string{"aéxyz"}, "[sparkq: output truncated, first 3 bytes dropped, last 3 kept]\nxyz"},
		{"empty", 4, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTail(tc.max)
			total := 0
			for _, w := range tc.writes {
				if n, err := tl.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				total += len(w)
			}
			if got := tl.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if tl.Total() != int64(total) {
				t.Errorf("Total() = %d, want %d", tl.Total(), total)
			}
		})
	}
}
