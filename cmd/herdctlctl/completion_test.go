package main

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const bashCompletion = "../../packaging/completion/herdctlctl.bash"

// fakeCtl stands in for herdctlctl in the completion tests: it answers
// __complete as a daemon with two agents would, and one word an agent
// could not really have, which must not be run.
const fakeCtl = `#!/bin/sh
[ "$1" = __complete ] || exit 2
shift
case "$*" in
agents) printf '%s\n' gardener homelab '$(touch PWNED)' ;;
jobs) printf '%s\n' 20261130-090000-4fa9c2 20261130-110000-00ab12 20261129-080000-cc11dd ;;
"jobs running queued") printf '%s\n' 20261129-080000-cc11dd ;;
"schedules gardener") printf '%s\n' weekly weather ;;
*) exit 2 ;;
esac
`

// completeBash sources the bash completion in a bare bash (no
// bash-completion package), sets COMP_WORDS and COMP_CWORD as bash does
// for words, the last being the one under the cursor, calls the
// completion function, and returns COMPREPLY sorted.
func completeBash(t *testing.T, dir string, words ...string) []string {
	t.Helper()
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	script := `source "$COMPLETION" || exit 1
COMP_WORDS=(` + strings.Join(quoted, " ") + `)
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_herdctlctl
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "COMPLETION="+mustAbs(t, bashCompletion))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("completing %q: %v\n%s", words, err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			got = append(got, l)
		}
	}
	slices.Sort(got)
	return got
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func bashDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "herdctlctl"), []byte(fakeCtl), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"herdctl.toml", "other.toml", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "fleet.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBashCompletion(t *testing.T) {
	dir := bashDir(t)
	for _, c := range []struct {
		name  string
		words []string
		want  []string
	}{
		{"every command", []string{"herdctlctl", ""},
			[]string{"agent", "agents", "cancel", "cost", "disable", "enable", "export", "help", "import", "job", "jobs", "logs", "prune", "reload", "sessions", "show", "status", "trigger", "validate"}},
		{"a command by its start", []string{"herdctlctl", "ag"}, []string{"agent", "agents"}},
		{"the global options", []string{"herdctlctl", "--"}, []string{"--help", "--version"}},
		{"agents for status", []string{"herdctlctl", "status", ""}, []string{"$(touch PWNED)", "gardener", "homelab"}},
		{"agents by their start", []string{"herdctlctl", "agent", "g"}, []string{"gardener"}},
		{"one argument only", []string{"herdctlctl", "agent", "gardener", ""}, nil},
		{"an agent after options", []string{"herdctlctl", "trigger", "--wait", "-f", "h"}, []string{"homelab"}},
		{"an option's value is not the argument", []string{"herdctlctl", "trigger", "--prompt", "hi", "g"}, []string{"gardener"}},
		{"--agent takes an agent", []string{"herdctlctl", "jobs", "--agent", ""}, []string{"$(touch PWNED)", "gardener", "homelab"}},
		{"--agent=NAME takes an agent", []string{"herdctlctl", "jobs", "--agent", "=", "ho"}, []string{"homelab"}},
		{"--agent= takes an agent", []string{"herdctlctl", "jobs", "--agent", "="}, []string{"$(touch PWNED)", "gardener", "homelab"}},
		{"--status takes a status", []string{"herdctlctl", "jobs", "--status", "c"}, []string{"cancelled", "completed"}},
		{"--limit takes a number", []string{"herdctlctl", "jobs", "--limit", ""}, nil},
		{"jobs takes no argument", []string{"herdctlctl", "jobs", ""}, nil},
		{"--schedule takes the agent's schedules", []string{"herdctlctl", "trigger", "gardener", "--schedule", "we"}, []string{"weather", "weekly"}},
		{"--schedule before the agent has none", []string{"herdctlctl", "trigger", "--schedule", ""}, nil},
		{"job ids for job", []string{"herdctlctl", "job", "202611"},
			[]string{"20261129-080000-cc11dd", "20261130-090000-4fa9c2", "20261130-110000-00ab12"}},
		{"running and queued jobs for cancel", []string{"herdctlctl", "cancel", ""}, []string{"20261129-080000-cc11dd"}},
		{"agents and jobs for logs", []string{"herdctlctl", "logs", "-n", "5", ""},
			[]string{"$(touch PWNED)", "20261129-080000-cc11dd", "20261130-090000-4fa9c2", "20261130-110000-00ab12", "gardener", "homelab"}},
		{"toml files and directories for validate", []string{"herdctlctl", "validate", ""}, []string{"fleet.d", "herdctl.toml", "other.toml"}},
		{"the format for export", []string{"herdctlctl", "export", ""}, []string{"kubernetes"}},
		{"toml files and directories for export's fleet", []string{"herdctlctl", "export", "--image", "x", "kubernetes", ""}, []string{"fleet.d", "herdctl.toml", "other.toml"}},
		{"export takes one fleet", []string{"herdctlctl", "export", "kubernetes", "herdctl.toml", ""}, nil},
		{"a flag spelled as --json=true is not an argument", []string{"herdctlctl", "agent", "--json", "=", "true", "g"}, []string{"gardener"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := completeBash(t, dir, c.words...); !slices.Equal(got, c.want) {
				t.Errorf("%q: got %q, want %q", c.words, got, c.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
		t.Error("the completion ran a word the daemon sent")
	}
}

// TestBashCompletionFlags: the options completed for each command are
// exactly the command's flags, and --help.
func TestBashCompletionFlags(t *testing.T) {
	dir := bashDir(t)
	for _, cmd := range commands() {
		if cmd.name == completeCommand {
			continue
		}
		want := append(flagNames(cmd.flags()), "--help")
		slices.Sort(want)
		if got := completeBash(t, dir, "herdctlctl", cmd.name, "-"); !slices.Equal(got, want) {
			t.Errorf("%s -<TAB>: got %q, want %q", cmd.name, got, want)
		}
	}
}

// flagNames are fs's flags as they are spelled: -f, --json.
func flagNames(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) == 1 {
			out = append(out, "-"+f.Name)
		} else {
			out = append(out, "--"+f.Name)
		}
	})
	return out
}

// zshCapture drives an interactive zsh through zpty, completes the line
// in $1 with the packaged completion, and prints every word offered, one
// "HIT:word" a line (compadd wrapped, as zsh-capture-completion does).
const zshCapture = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PROMPT= ; PATH=$FAKE:$PATH; fpath=($COMPLETIONS $fpath); autoload -U compinit; compinit -u -D'
zpty -w z 'bindkey "^I" complete-word; zstyle ":completion:*" list-grouped false'
zpty -w z 'null-line () { echo -E - $'"'"'\0'"'"' }; compprefuncs=( null-line ); comppostfuncs=( null-line exit )'
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits; builtin compadd -A __hits "$@"; for h in $__hits; do echo -E - "HIT:$h"; done }'
zpty -w z "$1"$'\t'
out=""
while zpty -r z line; do
	[[ $line == *$'\0'*$'\0'* ]] && break
	out+=$line
done
print -r -- "$out" | tr -d '\r' | grep -a '^HIT:'
zpty -d z
`

// TestZshCompletion completes a few lines in a real zsh. It needs zsh,
// which the test machines do not install yet: it says so and skips.
func TestZshCompletion(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("needs zsh to run the zsh completion (apt-get install zsh)")
	}
	dir := bashDir(t)
	script := filepath.Join(t.TempDir(), "capture.zsh")
	if err := os.WriteFile(script, []byte(zshCapture), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		line string
		want []string
	}{
		{"herdctlctl jobs --", []string{"--agent", "--help", "--json", "--limit", "--offset", "--session", "--status"}},
		// zsh offers the word quoted, as it would insert it.
		{"herdctlctl jobs --agent ", []string{`\$\(touch\ PWNED\)`, "gardener", "homelab"}},
		{"herdctlctl trigger gardener --schedule ", []string{"weather", "weekly"}},
		{"herdctlctl cancel ", []string{"20261129-080000-cc11dd"}},
		{"herdctlctl logs -n 5 ", []string{"20261129-080000-cc11dd", "20261130-090000-4fa9c2", "20261130-110000-00ab12", `\$\(touch\ PWNED\)`, "gardener", "homelab"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, "zsh", "-f", script, c.line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "FAKE="+dir, "COMPLETIONS="+mustAbs(t, filepath.Dir(bashCompletion)))
		out, err := cmd.Output()
		cancel()
		if err != nil {
			t.Errorf("%q: %v\n%s", c.line, err, out)
			continue
		}
		var got []string
		for _, l := range strings.Split(string(out), "\n") {
			if w, ok := strings.CutPrefix(l, "HIT:"); ok && !slices.Contains(got, w) {
				got = append(got, w)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.line, got, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
		t.Error("the completion ran a word the daemon sent")
	}
}
