package cockpit

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/herdctl/herdctl/service/api"
)

func pageFiles(t *testing.T, glob string) map[string]string {
	t.Helper()
	names, err := filepath.Glob(glob)
	if err != nil || len(names) == 0 {
		t.Fatalf("no %s: %v", glob, err)
	}
	out := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = string(b)
	}
	return out
}

// TestNoHTMLFromText: agents write names, descriptions, prompts, results
// and output; the page must never let a browser parse them as HTML or
// code. Nothing in it may use the APIs that do.
func TestNoHTMLFromText(t *testing.T) {
	forbidden := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\s*\(|setTimeout\s*\(\s*["'` + "`" + `]|srcdoc|DOMParser|createContextualFragment|javascript:`)
	for name, src := range pageFiles(t, "*.js") {
		for i, line := range strings.Split(src, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			if m := forbidden.FindString(line); m != "" {
				t.Errorf("%s:%d uses %s: build nodes with dom.js's h() and text nodes instead", name, i+1, m)
			}
		}
	}
}

// TestDefaultCSP: no inline script, no inline style, no event handler
// attributes, and a manifest that leaves Cockpit's content security
// policy as it is (no unsafe-inline, no unsafe-eval).
func TestDefaultCSP(t *testing.T) {
	html := pageFiles(t, "*.html")
	for name, src := range html {
		for _, m := range regexp.MustCompile(`(?is)<script\b[^>]*>(.*?)</script>`).FindAllStringSubmatch(src, -1) {
			if strings.TrimSpace(m[1]) != "" || !strings.Contains(m[0], "src=") {
				t.Errorf("%s: inline script %q", name, m[0])
			}
		}
		if regexp.MustCompile(`(?i)<style|\sstyle\s*=|\son[a-z]+\s*=`).MatchString(src) {
			t.Errorf("%s: an inline style or event handler attribute", name)
		}
	}
	var manifest map[string]any
	b, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if strings.Contains(string(b), "unsafe-") || manifest["content-security-policy"] != nil {
		t.Error("manifest.json changes the content security policy")
	}
	req, _ := manifest["requires"].(map[string]any)
	if req["cockpit"] != "287" {
		t.Errorf("manifest requires %v, want cockpit 287", req)
	}
	menu, _ := manifest["menu"].(map[string]any)
	index, _ := menu["index"].(map[string]any)
	if index["label"] != "Agents" {
		t.Errorf("menu entry %v, want the label Agents", index)
	}
}

// TestNamesAgree: the page names the bus, the object, the interface and
// the group as package api owns them.
func TestNamesAgree(t *testing.T) {
	src := pageFiles(t, "api.js")["api.js"]
	for name, want := range map[string]string{"BUS": api.BusName, "PATH": api.ObjectPath, "IFACE": api.Interface, "GROUP": api.AdminGroup} {
		if !strings.Contains(src, "export const "+name+" = \""+want+"\";") {
			t.Errorf("api.js: %s is not %q", name, want)
		}
	}
	// Every finished status the page knows is one of state's.
	m := regexp.MustCompile(`finished = st => \[([^\]]*)\]`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("api.js: no finished()")
	}
	var got []string
	for _, s := range strings.Split(m[1], ",") {
		got = append(got, strings.Trim(strings.TrimSpace(s), `"`))
	}
	for _, s := range got {
		if !api.Finished(s) {
			t.Errorf("api.js calls %q finished; package state does not", s)
		}
	}
	for _, s := range []string{api.StatusCompleted, api.StatusFailed, api.StatusCancelled, api.StatusTimedOut, api.StatusSkipped} {
		if !strings.Contains(m[1], `"`+s+`"`) {
			t.Errorf("api.js does not know %q is finished", s)
		}
	}
}

// TestModulesParse: every module is valid JavaScript (node's parser),
// and every import names a file that is here and is packaged.
func TestModulesParse(t *testing.T) {
	files := pageFiles(t, "*.js")
	node, err := exec.LookPath("node")
	for name, src := range files {
		for _, m := range regexp.MustCompile(`from "\./([^"]+)"`).FindAllStringSubmatch(src, -1) {
			if _, ok := files[m[1]]; !ok {
				t.Errorf("%s imports %s, which is not here", name, m[1])
			}
		}
		if err != nil {
			continue
		}
		if out, err := exec.Command(node, "--experimental-default-type=module", "--check", name).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
	}
	if err != nil {
		t.Log("node is not installed: the modules' syntax was not checked")
	}
	pkg, err := os.ReadFile("nfpm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cockpit/*.js", "cockpit/index.html", "cockpit/herdctl.css", "cockpit/manifest.json"} {
		if !strings.Contains(string(pkg), "src: "+want+"\n") {
			t.Errorf("nfpm.yaml does not ship %s", want)
		}
	}
}
