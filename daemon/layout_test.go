package daemon

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Which packages may use go-git: the repository, the event log and its
// derivation (still in events), and the composition root. Everything
// else — the web layer, the projections, accounts, the durable file
// write — reaches git only through them, so it can be read, tested and
// reused without git's object model. (The structure issue narrows this to
// repo/ and the log package.)
func TestGoGitStaysBehindTheRepository(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \",\"}} {{join .Deps \",\"}}", "github.com/chronicle-cms/chronicle/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/chronicle-cms/chronicle"
	direct := []string{mod + "/repo", mod + "/events", mod + "/daemon"}
	noneAtAll := []string{mod + "/webui/auth", mod + "/repo/atomicfile"}
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
		if usesGit(imports) && !slices.Contains(direct, pkg) {
			t.Errorf("%s imports go-git: reach the repository through repo/ or events", pkg)
		}
		if slices.Contains(noneAtAll, pkg) && usesGit(deps) {
			t.Errorf("%s depends on go-git", pkg)
		}
	}
}
