package policy

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/config"
)

var update = flag.Bool("update", false, "rewrite examples/bad/*/error.txt")

// realHost is the machine's host with a fixed workspace owner, so the
// tests do not depend on who owns the checkout.
type realHost struct{ OSHost }

func (realHost) Owner(string) (uint32, uint32, error) { return 1000, 1000, nil }

func noEnv(string) (string, bool) { return "", false }

// TestBadExamples loads each fleet under examples/bad and checks its error
// against the documented text in error.txt (paths relative to the case).
func TestBadExamples(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/bad/*/herdctl.toml")
	if len(dirs) < 10 {
		t.Fatalf("found %d bad examples, want at least 10", len(dirs))
	}
	for _, fleet := range dirs {
		dir := filepath.Dir(fleet)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, _, err := Load(fleet, config.LoadOptions{Getenv: noEnv}, Options{Host: realHost{}})
			if err == nil {
				t.Fatal("loaded without error")
			}
			abs, _ := filepath.Abs(dir)
			got := strings.ReplaceAll(err.Error(), abs+"/", "") + "\n"
			want := filepath.Join(dir, "error.txt")
			if *update {
				os.WriteFile(want, []byte(got), 0o644)
			}
			b, _ := os.ReadFile(want)
			if string(b) != got {
				t.Errorf("error differs from %s:\n--- want\n%s--- got\n%s", want, b, got)
			}
		})
	}
}

// TestBrokenFiles covers what cannot be committed as an example.
func TestBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := write("huge/herdctl.toml", "# "+strings.Repeat("x", 2<<20)+"\n")
	os.MkdirAll(filepath.Join(dir, "loop"), 0o755)
	os.Symlink("b.toml", filepath.Join(dir, "loop/a.toml"))
	os.Symlink("a.toml", filepath.Join(dir, "loop/b.toml"))
	loopFleet := write("loop/herdctl.toml", "version = 1\n[[agents]]\npath = \"a.toml\"\n")
	secret := write("secret.toml", "name = \"x\"\n")
	os.MkdirAll(filepath.Join(dir, "link/agent"), 0o755)
	os.Symlink(secret, filepath.Join(dir, "link/agent/agent.toml"))
	linkFleet := write("link/herdctl.toml", "version = 1\n[[agents]]\npath = \"agent/agent.toml\"\n")
	cases := []struct{ name, path, want string }{
		{"huge file", huge, "huge/herdctl.toml: cannot read it: file is 2097155 bytes, more than the 1048576 allowed: is this the right file?"},
		{"symlink loop", loopFleet, "loop/herdctl.toml:3:1: agents[0].path: agent file loop/a.toml: cannot read it: loop/a.toml is a symbolic link: a file here is read only when it is a regular file, never through a link; replace the link with the file itself"},
		{"agent file linked out of its directory", linkFleet, "link/herdctl.toml:3:1: agents[0].path: agent file link/agent/agent.toml: cannot read it: link/agent/agent.toml is a symbolic link: a file here is read only when it is a regular file, never through a link; replace the link with the file itself"},
		{"missing fleet", filepath.Join(dir, "nope.toml"), "nope.toml: cannot read it: no such file or directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Load(c.path, config.LoadOptions{Getenv: noEnv}, Options{Host: realHost{}})
			if err == nil {
				t.Fatal("loaded without error")
			}
			got := strings.ReplaceAll(err.Error(), dir+"/", "")
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
