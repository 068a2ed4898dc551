package config

import (
	"reflect"
	"testing"
)

func TestTouchingFollowsPaths(t *testing.T) {
	c, err := Parse([]byte("opsRepo: {url: /x}\nstages:\n  - {name: all, path: envs}\n  - {name: tst, path: envs/tst/}\n  - {name: prod, path: ./envs/prod, protected: true}\n  - {name: production, path: envs/production}\n"))
	if err != nil {
		t.Fatal(err)
	}
	names := func(ss []Stage) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return out
	}
	for _, tc := range []struct {
		paths []string
		want  []string
	}{
		{[]string{"envs/prod/api/values.yaml"}, []string{"all", "prod"}},
		{[]string{"envs/tst/web/values.yaml"}, []string{"all", "tst"}},
		{[]string{"envs/production/x.yaml"}, []string{"all", "production"}}, // a prefix is not a parent
		{[]string{"envs"}, []string{"all", "tst", "prod", "production"}},    // an app over the parent deploys them all
		{[]string{"README.md"}, nil},
	} {
		if got := names(c.Touching(tc.paths)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Touching(%v) = %v, want %v", tc.paths, got, tc.want)
		}
	}
	if got := Unconfirmed(c.Touching([]string{"envs/prod/a"}), []string{"all"}); !reflect.DeepEqual(got, []string{"prod"}) {
		t.Errorf("Unconfirmed = %v", got)
	}
	want := []Overlap{{"all", "tst"}, {"all", "prod"}, {"all", "production"}}
	if got := c.Overlaps(); !reflect.DeepEqual(got, want) {
		t.Errorf("Overlaps = %v", got)
	}
}
