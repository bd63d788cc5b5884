package kube

import (
	"os"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/policy/claudecli"
	"github.com/herdctl/herdctl/units"
)

// TestContainerfileInStep: the image recipe puts herdctl-runner and
// Claude Code where the exported commands look for them, and runs as
// non-root.
func TestContainerfileInStep(t *testing.T) {
	b, err := os.ReadFile("../packaging/kubernetes/Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	cf := string(b)
	for _, p := range []string{" " + units.DefaultRunner + "\n", " " + claudecli.Binary + "\n", "\nUSER 65532:65532\n", "./cmd/herdctl-runner"} {
		if !strings.Contains(cf, p) {
			t.Errorf("the Containerfile does not hold %q", strings.TrimSpace(p))
		}
	}
}
