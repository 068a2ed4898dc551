// Package version is `stagedeck version`.
package version

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/cmdutil"
)

// Info is what the release build stamps into the binary.
type Info struct {
	Version, Commit, Date string
}

// NewCmd builds the command.
func NewCmd(f *cmdutil.Factory, info Info) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(f.IO.Out, "stagedeck %s (commit %s, built %s)\n", info.Version, info.Commit, info.Date)
			return nil
		},
	}
}
