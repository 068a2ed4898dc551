package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stagedeck/stagedeck/e2e/termtest"
)

// binary is the stagedeck binary built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stagedeck-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "stagedeck")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = ".."
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("build stagedeck: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func start(t testing.TB, w, h int, env []string, args ...string) *termtest.Term {
	return termtest.Start(t, binary, w, h, env, args...)
}

const (
	keyEnter = termtest.KeyEnter
	keyEsc   = termtest.KeyEsc
	keyTab   = termtest.KeyTab
)
