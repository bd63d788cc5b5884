package runner

import (
	"context"
	"reflect"
	"sort"
	"testing"

	"github.com/herdctl/herdctl/containerd"
)

type fakeContainers struct {
	list    []containerd.Container
	removed []string
}

func (f *fakeContainers) List(context.Context) ([]containerd.Container, error) { return f.list, nil }
func (f *fakeContainers) Remove(_ context.Context, id string) error {
	f.removed = append(f.removed, id)
	return nil
}

func TestReap(t *testing.T) {
	list := []containerd.Container{
		{ID: "herdctl-a", Unit: "herdctl-alpha-tick.service"},
		{ID: "herdctl-b", Unit: "herdctl-alpha-nightly.service"},
		{ID: "herdctl-c"}, // run by hand, no unit
	}
	active := func(_ context.Context, unit string) (bool, error) {
		return unit == "herdctl-alpha-nightly.service", nil
	}
	for _, c := range []struct {
		all  bool
		want []string
	}{
		{false, []string{"herdctl-a"}},
		{true, []string{"herdctl-a", "herdctl-b", "herdctl-c"}},
	} {
		f := &fakeContainers{list: list}
		reaped, err := Reap(context.Background(), f, active, c.all)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(f.removed)
		if !reflect.DeepEqual(f.removed, c.want) || len(reaped) != len(c.want) {
			t.Errorf("all=%v: removed %v, want %v", c.all, f.removed, c.want)
		}
	}
}
