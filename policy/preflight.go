package policy

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/herdctl/herdctl/config"
)

// Preflight lists what would make the fleet's jobs fail or weaken its
// sandbox without being an error of the configuration: a claude binary
// that is missing or not executable, a Claude agent without credentials,
// network = "host", a fleet or env file others can write or read, hard
// links not protected by the kernel. Each finding says what to do.
// herdctlctl validate prints them; the daemon logs them at each reload and
// shows them in status. opts.PrivateTmp says the caller is herdctl.service,
// whose /tmp and /var/tmp are its own: a claude there cannot be checked
// from it (jobs run without PrivateTmp= and see the host's), and the
// finding says so instead of calling it missing.
func Preflight(f *config.Fleet, agents []*Agent, opts Options) config.Errors {
	var out config.Errors
	warn := func(loc config.Location, format string, args ...any) {
		out = append(out, config.Errorf(loc, format, args...))
	}
	fleetLoc := config.Location{File: f.File, Line: 1, Col: 1}
	claudeChecked, hooksChecked := map[string]bool{}, map[string]bool{}
	for _, a := range agents {
		at := config.Location{File: a.File, Line: 1, Col: 1, Field: a.Name}
		hookWarnings(f, a, hooksChecked, warn)
		if len(a.Command) == 0 {
			switch p := a.Claude.Path; {
			case p == "" && !claudeChecked[""]:
				claudeChecked[""] = true
				warn(config.Location{File: f.File, Line: 1, Col: 1, Field: "claude_path"}, "claude is not on PATH: install Claude Code (npm install -g @anthropic-ai/claude-code) or set claude_path; every Claude agent's job fails until then")
			case p != "" && !claudeChecked[p]:
				claudeChecked[p] = true
				msg := executable(p)
				if t := privateTmpDir(p, opts); msg != "" && t != "" {
					warn(config.Location{File: f.File, Line: 1, Col: 1, Field: "claude_path"}, "claude at %s was not checked: it is under %s, which herdctl.service does not see (PrivateTmp=: it has a %s of its own); jobs see the host's %s and run it if it is there, but systemd-tmpfiles cleans %s: install Claude Code under /usr/local or /opt, or check it with herdctlctl validate as root", p, t, t, t, t)
				} else if msg != "" {
					warn(config.Location{File: f.File, Line: 1, Col: 1, Field: "claude_path"}, "claude at %s %s: every Claude agent's job fails until it is fixed", p, msg)
				}
			}
			if !a.Container.HasEnv("ANTHROPIC_API_KEY") && !a.Container.HasEnv("CLAUDE_CODE_OAUTH_TOKEN") {
				warn(at, "agent %s has no credentials: put ANTHROPIC_API_KEY (an API key) or CLAUDE_CODE_OAUTH_TOKEN (claude setup-token, a subscription) in %s, then reload; its jobs fail with \"no credentials\" until then", a.Name, f.EnvFile)
			}
			if a.Container.Network == NetworkNone {
				warn(at, "agent %s runs Claude Code with network = \"none\": it cannot reach the API; give it network = \"egress\" in the fleet file", a.Name)
			}
		}
		if a.Container.Network == NetworkHost {
			warn(at, "agent %s has network = \"host\": the host's whole network, its loopback services and its abstract-namespace sockets (a D-Bus session bus, for one); network = \"egress\" reaches only the names its fleet lists", a.Name)
		}
	}
	if msg := rootOnly(f.File, 0o022, "chmod go-w"); msg != "" {
		warn(fleetLoc, "the fleet file %s: only root may change what agents are granted", msg)
	}
	if msg := rootOnly(f.EnvFile, 0o077, "chmod 0600"); msg != "" {
		warn(config.Location{File: f.EnvFile, Line: 1, Col: 1}, "the env file %s: it holds the fleet's secrets, for root alone", msg)
	}
	if b, err := os.ReadFile("/proc/sys/fs/protected_hardlinks"); err == nil && strings.TrimSpace(string(b)) != "1" {
		warn(fleetLoc, "fs.protected_hardlinks is %s: an agent could hard-link files it does not own into its directory; set it to 1 (sysctl -w fs.protected_hardlinks=1, and in /etc/sysctl.d)", strings.TrimSpace(string(b)))
	}
	return out
}

// executable says what is wrong with p as a program to run, or "".
func executable(p string) string {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return "cannot be found (" + unwrap(err).Error() + ")"
	case !fi.Mode().IsRegular():
		return "is not a file"
	case fi.Mode()&0o111 == 0:
		return "is not executable (chmod +x it)"
	}
	return ""
}

// rootOnly says what is wrong with the ownership or mode of p, a file
// only root may change (forbidden 0o022) or read (0o077), with the command
// that fixes it, or "" (also when p does not exist).
func rootOnly(p string, forbidden os.FileMode, fix string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return ""
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
		return fmt.Sprintf("is owned by uid %d (chown root: %s)", st.Uid, p)
	}
	if fi.Mode().Perm()&forbidden != 0 {
		return fmt.Sprintf("is mode %04o (%s %s)", fi.Mode().Perm(), fix, p)
	}
	return ""
}
