package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/internal/version"
)

// TestHelp: the usage and every command's --help, against golden files;
// every command's help has an example and spells its options as the
// synopsis does.
func TestHelp(t *testing.T) {
	golden(t, "help/herdctlctl.txt", []byte(usage))
	for _, cmd := range commands() {
		var b bytes.Buffer
		fs := cmd.flags()
		fs.SetOutput(&b)
		fs.Usage()
		golden(t, "help/"+strings.TrimPrefix(cmd.name, "__")+".txt", b.Bytes())
		help := b.String()
		if !regexp.MustCompile(`\nExample:\n  (sudo )?herdctlctl `).MatchString(help) {
			t.Errorf("%s --help has no Example: section", cmd.name)
		}
		synopsis, _, _ := strings.Cut(help, "\n")
		for _, f := range flagNames(fs) {
			if !strings.Contains(synopsis, "["+f+"]") && !strings.Contains(synopsis, "["+f+" ") && !strings.Contains(synopsis, "["+f+"[=") {
				t.Errorf("%s --help: the synopsis lacks %s: %s", cmd.name, f, synopsis)
			}
			if !strings.Contains(help, "\n  "+f+"\n") && !strings.Contains(help, "\n  "+f+" ") {
				t.Errorf("%s --help: the options do not list %s", cmd.name, f)
			}
		}
		if regexp.MustCompile(`\n  -[a-z]{2,}`).MatchString(help) {
			t.Errorf("%s --help spells a long option with one dash:\n%s", cmd.name, help)
		}
	}
}

// TestManPageInStep: the man page names every command and every option
// of each.
func TestManPageInStep(t *testing.T) {
	b, err := os.ReadFile("../../packaging/man/herdctlctl.1")
	if err != nil {
		t.Fatal(err)
	}
	man := string(b)
	roff := func(s string) string { return strings.ReplaceAll(s, "-", `\-`) }
	for _, cmd := range commands() {
		if cmd.name == completeCommand {
			continue
		}
		if !regexp.MustCompile(`(?m)^\.TP\n\.BI? "?` + cmd.name + `\b`).MatchString(man) {
			t.Errorf("the man page has no entry for %s", cmd.name)
		}
		entry := manEntry(man, cmd.name)
		for _, f := range flagNames(cmd.flags()) {
			if !strings.Contains(entry, `\fB`+roff(f)+`\fR`) && !strings.Contains(entry, ".B "+roff(f)) {
				t.Errorf("the man page's entry for %s does not name %s:\n%s", cmd.name, f, entry)
			}
		}
	}
	for _, s := range []string{`\-\-version`, "NO_COLOR", `\-\-json`} {
		if !strings.Contains(man, s) {
			t.Errorf("the man page does not mention %s", s)
		}
	}
}

// manEntry is the text of a command's .TP entry in the COMMANDS section.
func manEntry(man, name string) string {
	i := strings.Index(man, ".SH COMMANDS")
	if i < 0 {
		return ""
	}
	man = man[i:]
	if j := strings.Index(man[1:], "\n.SH "); j >= 0 {
		man = man[:j+1]
	}
	for _, e := range strings.Split(man, "\n.TP\n")[1:] {
		if regexp.MustCompile(`^\.BI? "?` + name + `\b`).MatchString(e) {
			return e
		}
	}
	return ""
}

// TestZshCompletionInStep: the zsh completion offers every command, and
// for each command exactly its options and --help. (The bash completion
// is run in TestBashCompletion.)
func TestZshCompletionInStep(t *testing.T) {
	b, err := os.ReadFile("../../packaging/completion/_herdctlctl")
	if err != nil {
		t.Fatal(err)
	}
	zsh := string(b)
	spec := regexp.MustCompile(`'(--?[a-z][a-z-]*)(?:=-?)?\[`)
	for _, cmd := range commands() {
		if cmd.name == completeCommand {
			continue
		}
		if !strings.Contains(zsh, "\t\t'"+cmd.name+":") {
			t.Errorf("zsh: %s is not among the commands", cmd.name)
		}
		m := regexp.MustCompile(`(?s)\n\t` + cmd.name + `\) (.*?);;`).FindStringSubmatch(zsh)
		if m == nil {
			t.Errorf("zsh: no case for %s", cmd.name)
			continue
		}
		got := map[string]bool{"--help": strings.Contains(m[1], "$help")}
		if strings.Contains(m[1], "$json") {
			got["--json"] = true
		}
		for _, s := range spec.FindAllStringSubmatch(m[1], -1) {
			got[s[1]] = true
		}
		want := append(flagNames(cmd.flags()), "--help")
		for _, f := range want {
			if !got[f] {
				t.Errorf("zsh: %s lacks %s", cmd.name, f)
			}
			delete(got, f)
		}
		for f := range got {
			t.Errorf("zsh: %s offers %s, which it does not have", cmd.name, f)
		}
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	c := &ctl{stdout: &out, stderr: &out}
	if err := c.dispatch([]string{"--version"}); err != nil {
		t.Fatal(err)
	}
	if want := "herdctlctl " + version.Version + "\n"; out.String() != want {
		t.Errorf("--version printed %q, want %q", out.String(), want)
	}
}
