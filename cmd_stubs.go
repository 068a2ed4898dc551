package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newRollbackCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{Use: "rollback STAGE", Short: "Roll a stage back by git revert (not yet available)", Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return withCode(exitUsage, errors.New("rollback is not built yet"))
		}}
}
