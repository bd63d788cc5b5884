package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/internal/cli"
)

// TestExportCommand: the command's edges (its format word, the fleet's
// errors and refusals as validate prints them, exit 2); what it writes is
// package kube's, golden-tested there.
func TestExportCommand(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no format", []string{"export"}, ""},
		{"an unknown format", []string{"export", "nomad", "../../examples/herdctl.toml"}, ""},
		{"two fleets", []string{"export", "kubernetes", "a.toml", "b.toml"}, ""},
		{"an invalid fleet", []string{"export", "kubernetes", "../../examples/bad/dangerous-option/herdctl.toml"}, "docker.network: may only be set by the fleet file"},
		{"a schedule with no cron form", []string{"export", "kubernetes", "--image=x", "../../examples/herdctl.toml"}, `schedule "weather" of agent "gardener" runs every 3d`},
	} {
		var out, errOut bytes.Buffer
		c2 := &ctl{stdout: &out, stderr: &errOut}
		err := c2.dispatch(c.args)
		var ee *cli.ExitError
		if !errors.As(err, &ee) || ee.Code != cli.ExitUsage {
			t.Errorf("%s: %v, want exit %d", c.name, err, cli.ExitUsage)
		}
		if out.Len() > 0 {
			t.Errorf("%s: wrote to stdout:\n%s", c.name, out.String())
		}
		if !strings.Contains(errOut.String(), c.stderr) {
			t.Errorf("%s: stderr lacks %q:\n%s", c.name, c.stderr, errOut.String())
		}
	}
}

// TestExportJSON: --json writes one v1 List, and the notes still go to
// stderr.
func TestExportJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	c := &ctl{stdout: &out, stderr: &errOut}
	if err := c.dispatch([]string{"export", "kubernetes", "--json", "--namespace=fleet", "../../kube/testdata/fleets/networks/herdctl.toml"}); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var list struct {
		APIVersion, Kind string
		Items            []struct {
			Kind     string
			Metadata struct{ Namespace string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if list.APIVersion != "v1" || list.Kind != "List" || len(list.Items) < 5 || list.Items[0].Kind != "Namespace" || list.Items[1].Metadata.Namespace != "fleet" {
		t.Errorf("not the export as a List: %+v", list)
	}
	if !strings.Contains(errOut.String(), "note: ") {
		t.Errorf("no notes on stderr: %q", errOut.String())
	}
}
