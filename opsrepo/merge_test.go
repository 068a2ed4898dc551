package opsrepo

import "testing"

func TestMerge3(t *testing.T) {
	base := "a\nb\nc\nd\ne\nf\ng\n"
	cases := []struct {
		name, ours, theirs, want string
		ok                       bool
	}{
		{"separate regions", "A\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nd\ne\nf\nG\n", "A\nb\nc\nd\ne\nf\nG\n", true},
		{"same line", "a\nB1\nc\nd\ne\nf\ng\n", "a\nB2\nc\nd\ne\nf\ng\n", "", false},
		{"adjacent lines conflict", "a\nB\nc\nd\ne\nf\ng\n", "a\nb\nC\nd\ne\nf\ng\n", "", false},
		{"identical change", "a\nB\nc\nd\ne\nf\ng\n", "a\nB\nc\nd\ne\nf\ng\n", "a\nB\nc\nd\ne\nf\ng\n", true},
		{"insert and delete apart", "a\nb\nX\nc\nd\ne\nf\ng\n", "a\nb\nc\nd\ne\ng\n", "a\nb\nX\nc\nd\ne\ng\n", true},
		{"only theirs", base, "a\nb\nc\nD\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n", true},
	}
	for _, tc := range cases {
		got, ok := merge3(base, tc.ours, tc.theirs)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s: got %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
