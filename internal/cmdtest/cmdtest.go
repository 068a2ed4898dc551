// Package cmdtest gives command tests a factory with captured streams over
// a real config, as the program builds it.
package cmdtest

import (
	"bytes"
	"strings"

	"github.com/stagedeck/stagedeck/cmdutil"
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
