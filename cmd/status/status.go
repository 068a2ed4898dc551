// Package status is `stagedeck status`: every stage's head, deployed
// revision, sync and health, for people (a table) and scripts (JSON, exit codes).
package status

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/session"
)

// Options are one run's inputs and dependencies.
type Options struct {
	IO   cmdutil.IOStreams
	Open func(ctx context.Context, fetch bool) (*session.Session, error)
	// Now is the clock ages are measured with; nil = the session's.
	Now func() time.Time

	Output   string // table or json
	ExitCode bool
	NoFetch  bool
	Width    int // table width in cells; 0 = 80
}

// NewCmd builds the command; runF replaces Run in tests of the flags.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Open: f.Open}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Print every stage's head, deployed revision, sync and health",
		Long: "Print every stage and app: the ops-repo head, what Argo CD deployed, sync and health,\n" +
			"and how many commits are pending. With --exit-code: 0 all deployed and healthy,\n" +
			"1 something pending, out of sync or degraded, 2 usage or config error,\n" +
			"3 git or Argo CD unreachable.",
		Example: "  stagedeck status\n  stagedeck status -o json | jq '.stages[].apps[] | select(.pendingCommits > 0)'\n  stagedeck status --exit-code >/dev/null || page-oncall",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output format: table or json")
	cmd.Flags().BoolVar(&opts.ExitCode, "exit-code", false, "exit 1 when anything is pending, out of sync or degraded; 3 when unreachable")
	cmd.Flags().BoolVar(&opts.NoFetch, "no-fetch", false, "do not fetch the ops repository first")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Run collects the board and prints it.
func Run(ctx context.Context, opts *Options) error {
	if err := cmdutil.CheckOutput(opts.Output); err != nil {
		return err
	}
	s, err := opts.Open(ctx, !opts.NoFetch)
	if err != nil {
		return err
	}
	defer s.Close()
	now := opts.Now
	if now == nil {
		now = s.Now
	}
	b, err := board.Collect(ctx, s.Sources())
	if err != nil {
		return cmdutil.WithCode(CollectErrCode(err), err)
	}
	out := opts.IO.Out
	if opts.Output == "json" {
		// Exact values; JSON escapes what a terminal would act on.
		if err := cmdutil.WriteJSON(out, b); err != nil {
			return err
		}
	} else {
		width := opts.Width
		if width <= 0 {
			width = 80
		}
		WriteTable(sanitize.NewWriter(out), b.Cleaned(), now(), width)
	}
	// Exit codes are a contract: 3 whenever a source was unreachable
	// or refused our credentials; --exit-code adds 1 for anything
	// pending, out of sync or degraded, and says which and why.
	code, why := ExitCode(b)
	switch {
	case code == cmdutil.ExitUnreachable:
		return cmdutil.Exit(code)
	case opts.ExitCode && code != cmdutil.ExitOK:
		fmt.Fprintln(opts.IO.ErrOut, "stagedeck: "+sanitize.Line(why))
		return cmdutil.Exit(code)
	}
	return nil
}

// ExitCode is status's exit code and, when not 0, why in one line.
func ExitCode(b *board.Board) (int, string) {
	for _, e := range b.Errors {
		if e.Unreachable {
			return cmdutil.ExitUnreachable, e.Source + ": " + e.Message
		}
	}
	if len(b.Errors) > 0 {
		return cmdutil.ExitPending, b.Errors[0].Source + ": " + b.Errors[0].Message
	}
	var why []string
	for _, s := range b.Stages {
		for _, a := range s.Apps {
			var what []string
			if a.PendingCommits > 0 {
				what = append(what, fmt.Sprintf("%d commit(s) not deployed", a.PendingCommits))
			}
			if a.SyncStatus != "" && a.SyncStatus != "Synced" {
				what = append(what, a.SyncStatus)
			}
			if a.HealthStatus != "" && a.HealthStatus != "Healthy" {
				what = append(what, a.HealthStatus)
			}
			if len(what) > 0 {
				why = append(why, fmt.Sprintf("%s/%s %s", s.Name, a.Name, strings.Join(what, ", ")))
			}
		}
	}
	if len(why) == 0 && b.Settled() {
		return cmdutil.ExitOK, ""
	}
	if len(why) == 0 {
		why = []string{"not settled"}
	}
	return cmdutil.ExitPending, "not settled: " + strings.Join(why, "; ")
}

// WriteTable prints the board in width columns: a row per stage with
// its head commit, then a row per app with its deployed revision.
func WriteTable(w io.Writer, b *board.Board, now time.Time, width int) {
	title := fmt.Sprintf("%s @ %s  head %s", b.Repo.URL, b.Repo.Branch, opsrepo.Short(b.Repo.Head))
	if b.Demo {
		title = "DEMO  " + title
	}
	fmt.Fprintln(w, cmdutil.Clip(title, width))
	if b.GitOnly {
		fmt.Fprintln(w, cmdutil.Clip("git-only mode: no argocd section in the config, Argo CD columns are empty", width))
	}
	for _, o := range b.OverlapNotes() {
		fmt.Fprintln(w, cmdutil.Clip("note: "+o, width))
	}
	// HEAD is the last commit on the path, DEPLOYED what Argo CD runs, and
	// BEHIND the commits on the path that are not deployed: the same words
	// for stages and apps.
	row := func(name, sync, health, head, deployed, behind, info string) {
		line := fmt.Sprintf("%s %s %s %-7s %-8s %6s  %s", cmdutil.Cell(name, 14), cmdutil.Cell(sync, 9), cmdutil.Cell(health, 9), head, deployed, behind, info)
		fmt.Fprintln(w, cmdutil.Clip(strings.TrimRight(line, " "), width))
	}
	row("STAGE/APP", "SYNC", "HEALTH", "HEAD", "DEPLOYED", "BEHIND", "LAST CHANGE / MODE")
	for _, s := range b.Stages {
		name := s.Name
		var sha, info string
		if s.Head != nil {
			sha = s.Head.ShortSHA()
			info = fmt.Sprintf("%s %s: %s", board.Age(now, s.Head.Date), cmdutil.FirstName(s.Head.Author), s.Head.Subject)
		}
		if s.CIManaged {
			info = "ci-managed · " + info
		}
		if s.Protected {
			info = "protected · " + info
		}
		behind := ""
		if !b.GitOnly && s.ArgoError == "" {
			behind = fmt.Sprint(s.Behind())
		}
		row(name, cmdutil.Dash(s.Sync()), cmdutil.Dash(s.Health()), sha, "", behind, info)
		if s.ArgoError != "" {
			fmt.Fprintln(w, "  argo cd state unknown: see the error below")
		}
		for _, a := range s.Apps {
			mode := "manual"
			if a.AutoSync {
				mode = "auto"
			}
			if a.OperationRunning {
				mode += ", syncing"
			} else if a.OperationPhase == "Failed" || a.OperationPhase == "Error" {
				mode += ", last sync " + strings.ToLower(a.OperationPhase)
			}
			deployed := opsrepo.Short(a.DeployedRevision)
			if deployed == "" {
				deployed = "-"
			}
			behind := fmt.Sprint(a.PendingCommits)
			if a.NotAncestor {
				behind = "?"
				mode += ", deployed rev not on branch"
			}
			head := "-"
			if a.Head != nil {
				head = a.Head.ShortSHA()
				// Deployed at a later commit that did not touch this path:
				// say which commit's content runs.
				switch {
				case a.Running != nil:
					mode += ", runs " + a.Running.ShortSHA()
				case a.DeployedRevision != "" && a.DeployedRevision != a.Head.SHA && a.PendingCommits == 0 && !a.NotAncestor:
					mode += ", runs " + head
				}
			}
			row("  "+a.Name, a.SyncStatus, a.HealthStatus, head, deployed, behind, mode)
		}
	}
	// Errors are printed whole: they carry the fix (an argocd login command).
	for _, e := range b.Errors {
		fmt.Fprintln(w, "error: "+e.Source+": "+e.Message)
	}
}

// CollectErrCode is the exit code of a board that could not be collected:
// a stage path missing from the repo is the config's (2), the rest a source
// out of reach (3).
func CollectErrCode(err error) int {
	if errors.Is(err, opsrepo.ErrUnknownPath) {
		return cmdutil.ExitUsage
	}
	return cmdutil.ExitUnreachable
}
