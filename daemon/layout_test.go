package daemon

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The layout's rules, checked on the import graph:
//   - only repo/ imports go-git: everything else reaches git through it
//     (the event log and derivation in events/gitlog, the command side in
//     events/command), so it can be read and tested without git's object
//     model;
//   - the event catalogue, the content model, the read side (the bus and
//     every projection), accounts, the durable file write and the LFS
//     store do not depend on go-git at all;
//   - the content model does no I/O, so forms and tools can use it
//     cheaply.
func TestLayout(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \",\"}} {{join .Deps \",\"}}", "github.com/chronicle-cms/chronicle/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/chronicle-cms/chronicle"
	noGitAtAll := []string{mod + "/events", mod + "/events/content", mod + "/webui/auth", mod + "/repo/atomicfile", mod + "/repo/lfs"}
	noIO := []string{"os", "os/exec", "io/fs", "net", "net/http", "path/filepath", "syscall", "log/slog"}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		pkg, imports := f[0], strings.Split(f[1], ",")
		deps := []string{}
		if len(f) > 2 {
			deps = strings.Split(f[2], ",")
		}
		if strings.Contains(pkg, "/bench/") {
			continue // benchmark commands build histories with go-git on purpose
		}
		usesGit := func(list []string) bool {
			return slices.ContainsFunc(list, func(p string) bool { return strings.HasPrefix(p, "github.com/go-git/") })
		}
		if usesGit(imports) && pkg != mod+"/repo" {
			t.Errorf("%s imports go-git: reach the repository through repo/", pkg)
		}
		if slices.Contains(noGitAtAll, pkg) {
			seen++
		}
		readSide := pkg == mod+"/events/bus" || strings.HasPrefix(pkg, mod+"/projections")
		if (readSide || slices.Contains(noGitAtAll, pkg)) && usesGit(deps) {
			t.Errorf("%s depends on go-git", pkg)
		}
		if pkg == mod+"/events/content" {
			for _, imp := range imports {
				if slices.Contains(noIO, imp) || strings.HasPrefix(imp, mod) {
					t.Errorf("the content model imports %s: it does no I/O and depends on nothing of the project", imp)
				}
			}
		}
	}
	if seen != len(noGitAtAll) {
		t.Errorf("found %d of the %d packages the rules name: a package was moved or renamed", seen, len(noGitAtAll))
	}
}
