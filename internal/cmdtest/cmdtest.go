// Package cmdtest gives command tests a factory with captured streams over
// a real config, as the program builds it.
package cmdtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/demo"
)

// Streams are a test's captured output.
type Streams struct {
	Out, ErrOut *bytes.Buffer
}

// Factory is the program's factory over the config at cfgPath (with demo,
// the sandbox), reading an empty stdin.
func Factory(cfgPath string, demo bool) (*cmdutil.Factory, Streams) {
	s := Streams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	f := cmdutil.New(cmdutil.IOStreams{In: strings.NewReader(""), Out: s.Out, ErrOut: s.ErrOut})
	f.Flags.Config, f.Flags.Demo = cfgPath, demo
	return f, s
}

// Sandbox starts the demo's real git remote and gRPC fake Argo CD (no
// simulated CI, quick syncs) and writes a config for them, with extra
// appended (an operators section, say); it returns the config's path.
func Sandbox(t testing.TB, extra string) (*demo.Sandbox, string) {
	t.Helper()
	sb, err := demo.Start(demo.Options{CIInterval: -1, SyncDuration: 200 * time.Millisecond, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	var stages strings.Builder
	for _, s := range sb.Config.Stages {
		fmt.Fprintf(&stages, "  - {name: %s, path: %s, protected: %v, ciManaged: %v}\n", s.Name, s.Path, s.Protected, s.CIManaged)
	}
	cfg := fmt.Sprintf("opsRepo:\n  url: %s\nargocd:\n  context: demo\n  configPath: %s\ncacheDir: %s\nstages:\n%s%s",
		sb.Remote, sb.Config.ArgoCD.ConfigPath, filepath.Join(t.TempDir(), "cache"), stages.String(), extra)
	p := filepath.Join(t.TempDir(), "stagedeck.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return sb, p
}
