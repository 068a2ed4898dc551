package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// globalFlags are the flags every command takes.
type globalFlags struct {
	config   string
	demo     bool
	readOnly bool
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "stagedeck",
		Short: "A terminal console for the owners of GitOps stages",
		Long: "stagedeck shows every stage of a two-repo GitOps flow: what the ops repository holds,\n" +
			"what Argo CD deployed, and what is pending; it syncs exactly the reviewed revision\n" +
			"and rolls back with git revert. Run `stagedeck --demo` to try it without a cluster.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += ": did you mean " + strings.Join(s, " or ") + "?"
			}
			return withCode(exitUsage, errors.New(msg+" (stagedeck --help lists the commands)"))
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConsole(cmd.Context(), g)
		},
	}
	root.PersistentFlags().StringVar(&g.config, "config", "", "config file (default ./stagedeck.yaml, then $XDG_CONFIG_HOME/stagedeck/config.yaml)")
	root.PersistentFlags().BoolVar(&g.demo, "demo", false, "run against the built-in demo sandbox (no cluster needed)")
	root.PersistentFlags().BoolVar(&g.readOnly, "read-only", false, "refuse every sync, terminate, commit and push")
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(exitUsage, err) })
	root.AddCommand(newStatusCmd(g), newVersionCmd(), newDiffCmd(g), newSyncCmd(g), newRollbackCmd(g), newLogCmd(g), newTerminateCmd(g))
	root.CompletionOptions.HiddenDefaultCmd = false
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "stagedeck %s (commit %s, built %s)\n", version, commit, date)
			return nil
		},
	}
}

// stageCompletion completes stage names from the config.
func stageCompletion(g *globalFlags) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if g.demo {
			return demoStageNames(), cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := loadConfig(g)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.StageNames(), cobra.ShellCompDirectiveNoFileComp
	}
}
