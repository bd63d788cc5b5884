package cli

import (
	"reflect"
	"testing"
)

func TestParseFlagsAnywhere(t *testing.T) {
	for _, c := range []struct {
		args []string
		n    int
		json bool
		rest []string
	}{
		{[]string{"gardener", "-n", "5"}, 5, false, []string{"gardener"}},
		{[]string{"-n", "5", "gardener", "--json"}, 5, true, []string{"gardener"}},
		{[]string{"a", "b"}, 0, false, []string{"a", "b"}},
		{[]string{"--", "-n", "x"}, 0, false, []string{"-n", "x"}},
		{[]string{"a", "--", "--json"}, 0, false, []string{"a", "--json"}},
		{nil, 0, false, []string{}},
	} {
		fs := NewFlagSet("t", "t", "t")
		n := fs.Int("n", 0, "")
		j := fs.Bool("json", false, "")
		if err := Parse(fs, c.args); err != nil {
			t.Fatal(err)
		}
		rest := fs.Args()
		if rest == nil {
			rest = []string{}
		}
		if *n != c.n || *j != c.json || !reflect.DeepEqual(rest, c.rest) {
			t.Errorf("%q: n=%d json=%v args=%q; want %d %v %q", c.args, *n, *j, rest, c.n, c.json, c.rest)
		}
	}
}
