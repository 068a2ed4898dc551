package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestArgoCDStaysAtTheEdge enforces the dependency rule (docs/architecture.md):
// only the Argo CD client (argo) and its fake (argo/argotest) import argo-cd
// or k8s.io; what draws and decides links neither, nor go-git's repository.
func TestArgoCDStaysAtTheEdge(t *testing.T) {
	heavy := func(p string) bool {
		return strings.Contains(p, "github.com/argoproj/") || strings.HasPrefix(p, "k8s.io/")
	}
	out, err := exec.Command("go", "list", "-deps", "./tui", "./board", "./patch", "./config", "./opsrepo", "./appstate", "./sanitize", "./review", "./deploy", "./gitstate", "./feed").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		if heavy(p) {
			t.Errorf("%s is in the dependencies of the console and the domain packages", p)
		}
	}
	// The console and the board read git's values (gitstate), not its
	// repository: go-git's repository, transports and crypto are opsrepo's.
	out, err = exec.Command("go", "list", "-deps", "./tui", "./board", "./review", "./gitstate", "./feed").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "github.com/go-git/go-git/v5" || strings.Contains(p, "go-git/v5/plumbing/transport") || strings.Contains(p, "ProtonMail") ||
			p == "github.com/stagedeck/stagedeck/opsrepo" {
			t.Errorf("%s is in the dependencies of the console", p)
		}
	}
	out, err = exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if heavy(imp) && f[0] != "github.com/stagedeck/stagedeck/argo" && f[0] != "github.com/stagedeck/stagedeck/argo/argotest" &&
				!strings.HasPrefix(f[0], "github.com/stagedeck/stagedeck/argo/internal/") {
				t.Errorf("%s imports %s: only argo (and its internal packages) and argo/argotest may", f[0], imp)
			}
		}
	}
}
