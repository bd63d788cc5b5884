package importer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/state"
)

// FleetFileName is the imported fleet file's name in the output directory.
const FleetFileName = "herdctl.toml"

// File is one file of an imported fleet.
type File struct {
	// Path is relative to the output directory.
	Path string
	Data []byte
	// Agent is the agent whose directory holds it, "" for the fleet file.
	Agent string
}

// Files renders the imported fleet: the fleet file, then each agent's.
// With out (the output directory) the fleet file lists each agent file by
// its absolute path, so that the fleet file (or its [[agents]], as a
// drop-in of fleet.d/) may move to /etc/herdctl; without, relative to
// the fleet file.
func (r *Result) Files(out string) []File {
	fleet := r.Fleet
	if out != "" {
		abs, err := filepath.Abs(out)
		if err == nil {
			fleet.Agents = append([]config.AgentEntry(nil), r.Fleet.Agents...)
			for i := range fleet.Agents {
				fleet.Agents[i].Path = filepath.Join(abs, fleet.Agents[i].Path)
			}
		}
	}
	var head strings.Builder
	fmt.Fprintf(&head, "# Imported by herdctlctl import from %s.\n", r.Source)
	head.WriteString("# Check it with: herdctlctl validate " + FleetFileName + "\n")
	if len(r.Vars) > 0 {
		head.WriteString("#\n# Variables it references, for the env file (/etc/herdctl/herdctl.env, mode 0600):\n")
		for _, v := range r.Vars {
			fmt.Fprintf(&head, "#   %s=%s\n", v.Name, v.comment())
		}
	}
	head.WriteString("\n")
	files := []File{{Path: FleetFileName, Data: []byte(head.String() + encodeTOML(fleet))}}
	for _, a := range r.Agents {
		body := fmt.Sprintf("# Imported by herdctlctl import from %s.\n", a.Source) + encodeTOML(a.File)
		files = append(files, File{Path: AgentPath(a.Name), Data: []byte(body), Agent: a.Name})
	}
	return files
}

func (v Var) comment() string {
	var s []string
	if v.InDotEnv {
		s = append(s, "set in the .env beside the original fleet")
	}
	if v.Optional {
		s = append(s, "optional: every reference has a default")
	}
	if len(s) == 0 {
		return ""
	}
	return "   # " + strings.Join(s, "; ")
}

// WriteOptions says how to write an imported fleet.
type WriteOptions struct {
	// Out is the output directory.
	Out string
	// Owner owns each agent's directory and file: the user its jobs run
	// as. Nil leaves them to the user running the import.
	Owner *Owner
	// Force overwrites the files of an earlier import.
	Force bool
}

// Owner is a uid and gid.
type Owner struct{ UID, GID int }

// LookupOwner reads USER as a name, a uid (its user's group, or the same
// number when no user has it), or uid:gid.
func LookupOwner(s string) (*Owner, error) {
	if uidS, gidS, ok := strings.Cut(s, ":"); ok {
		uid, err1 := strconv.Atoi(uidS)
		gid, err2 := strconv.Atoi(gidS)
		if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
			return nil, fmt.Errorf("--user %q: write a user name, a uid, or uid:gid", s)
		}
		return &Owner{uid, gid}, nil
	}
	u, err := user.Lookup(s)
	if err != nil {
		u, err = user.LookupId(s)
	}
	if uid, nerr := strconv.Atoi(s); err != nil && nerr == nil && uid >= 0 {
		// A uid of no user in the user database: its own group.
		return &Owner{uid, uid}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--user %q: no such user: create it (useradd --system %s) or give a uid", s, s)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &Owner{uid, gid}, nil
}

// ErrExists is returned by Write when the output directory already holds
// an imported fleet and Force is not set.
var ErrExists = errors.New("the output directory already holds a fleet")

// Write writes the files into o.Out: the fleet file (mode 0644) and each
// agent's directory (0755) and file (0644), owned by o.Owner. It refuses
// to overwrite an earlier import without o.Force, and never follows a
// symbolic link it finds in the output directory: a directory under it
// that is a link (o.Out/agents, o.Out/agents/NAME) is an error, a file
// that is one is replaced.
func Write(files []File, o WriteOptions) error {
	if !o.Force {
		for _, p := range []string{FleetFileName, "agents"} {
			if _, err := os.Lstat(filepath.Join(o.Out, p)); err == nil {
				return fmt.Errorf("%s: %w (%s): pass --force to overwrite it, or choose another --out", o.Out, ErrExists, p)
			}
		}
	}
	// DIR itself is the operator's to choose, a link or not; below it
	// nothing is followed (mkdirOwned).
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	if err := mkdirOwned(filepath.Join(o.Out, "agents"), nil); err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(o.Out, f.Path)
		if f.Agent != "" {
			dir := filepath.Dir(p)
			if err := mkdirOwned(dir, o.Owner); err != nil {
				return err
			}
		}
		if err := writeFile(p, f.Data, o.Owner, f.Agent != ""); err != nil {
			return err
		}
	}
	return nil
}

// mkdirOwned makes dir, whose parent Write has checked, or checks the
// one there: a directory, not a symbolic link (which Write would write
// through, and chown what it points to), then owned by owner.
func mkdirOwned(dir string, owner *Owner) error {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(dir)
		return fmt.Errorf("%s is a symbolic link (to %s): herdctlctl import writes through no link under --out; remove it (rm %s) and run the import again, or give the directory you mean as --out", dir, target, dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory (%v): remove it", dir, fi.Mode().Type())
	}
	if owner != nil {
		return os.Lchown(dir, owner.UID, owner.GID)
	}
	return nil
}

// writeFile replaces p with data: a new file beside it, renamed over it,
// so a link at p is replaced, never followed.
func writeFile(p string, data []byte, owner *Owner, owned bool) error {
	uid, gid := -1, -1
	if owned && owner != nil {
		uid, gid = owner.UID, owner.GID
	}
	return state.WriteFileAtomicOwned(p, data, 0o644, uid, gid)
}

// Print writes the files to w, each under a line naming it: --dry-run.
func Print(w io.Writer, out string, files []File) error {
	for i, f := range files {
		sep := ""
		if i > 0 {
			sep = "\n"
		}
		if _, err := fmt.Fprintf(w, "%s# ==> %s <==\n%s", sep, filepath.Join(out, f.Path), f.Data); err != nil {
			return err
		}
	}
	return nil
}
