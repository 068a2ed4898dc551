// Command gendocs writes stagedeck's man pages from its commands (the
// release build runs it; the packages install them).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/stagedeck/stagedeck/cmd/root"
	"github.com/stagedeck/stagedeck/cmd/version"
	"github.com/stagedeck/stagedeck/cmdutil"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/gendocs DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
	cmd := root.NewCmd(cmdutil.New(cmdutil.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}), version.Info{Version: "dev"})
	cmd.DisableAutoGenTag = true
	header := &doc.GenManHeader{Title: "STAGEDECK", Section: "1", Source: "stagedeck", Manual: "stagedeck manual"}
	if err := doc.GenManTree(cmd, header, dir); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
