package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiskTooDeep: data below directories nested deeper than the walk
// counts is not hidden: such a tree is over the limit.
func TestDiskTooDeep(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, strings.Repeat("d/", maxDiskDepth+5))
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(p, "hidden"), make([]byte, 1<<20), 0o644)
	err := checkDisk([]string{dir}, 1<<30, 1<<20)
	if _, ok := err.(*diskLimit); !ok || !strings.Contains(err.Error(), "deep") {
		t.Errorf("a tree %d deep: %v", maxDiskDepth+5, err)
	}
	shallow := t.TempDir()
	os.MkdirAll(filepath.Join(shallow, strings.Repeat("d/", 20)), 0o755)
	if err := checkDisk([]string{shallow}, 1<<30, 1<<20); err != nil {
		t.Errorf("a tree 20 deep: %v", err)
	}
}
