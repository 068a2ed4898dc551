// Package log is `stagedeck log`: a stage's (or app's) timeline of commits
// and Argo CD deploys, newest first.
package log

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/cmd/status"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/session"
)

// logLimit bounds the commits the timeline reads.
const logLimit = 500

// Options are one run's inputs and dependencies.
type Options struct {
	IO   cmdutil.IOStreams
	Open func(ctx context.Context, fetch bool) (*session.Session, error)
	// Now is the clock --since and ages count from; nil = the session's.
	Now func() time.Time

	Args   []string // STAGE [APP]
	Output string   // table or json
	Since  string
}

// NewCmd builds the command; runF replaces Run in tests of the flags.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Open: f.Open}
	cmd := &cobra.Command{
		Use:   "log STAGE [APP]",
		Short: "What changed in a stage: its commits and Argo CD's deploys, newest first",
		Long: "Print a stage's timeline (or one app's): the ops-repo commits that changed its\n" +
			"directory, with the sha to revert, and Argo CD's deploys (revision, who started the\n" +
			"sync, the reason it was sent with), newest first. --since 2h (or 3d) limits it.",
		Example: "  stagedeck log prod --since 2h\n  stagedeck log prod api -o json | jq '.[] | select(.kind == \"deploy\")'",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.StageCompletion(f),
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output format: table or json")
	cmd.Flags().StringVar(&opts.Since, "since", "", "only the last DURATION (e.g. 90m, 2h, 3d)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Run prints the timeline.
func Run(ctx context.Context, opts *Options) error {
	if err := cmdutil.CheckOutput(opts.Output); err != nil {
		return err
	}
	s, err := opts.Open(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()
	now := opts.Now
	if now == nil {
		now = s.Now
	}
	var from time.Time
	if opts.Since != "" {
		d, err := parseSince(opts.Since)
		if err != nil {
			return cmdutil.WithCode(cmdutil.ExitUsage, err)
		}
		from = now().Add(-d)
	}
	b, err := board.Collect(ctx, s.Sources())
	if err != nil {
		return cmdutil.WithCode(status.CollectErrCode(err), err)
	}
	st, app, targets, err := cmdutil.StageArgs(s, b, opts.Args)
	if err != nil {
		return err
	}
	path := st.Path
	if app != "" {
		app, path = targets[0].App, targets[0].Path
	}
	head, err := s.Repo.Resolve(b.Repo.Head)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	commits, err := s.Repo.History(ctx, head, path, logLimit)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	events := board.Timeline(*st, app, commits, from)
	out := opts.IO.Out
	if opts.Output == "json" {
		if events == nil {
			events = []board.Event{}
		}
		return cmdutil.WriteJSON(out, events)
	}
	WriteLog(sanitize.NewWriter(out), events, now(), 80)
	for _, e := range b.Errors {
		if e.Unreachable {
			// The commits are printed; the deploys are missing: 3, as status.
			return cmdutil.WithCode(cmdutil.ExitUnreachable, fmt.Errorf("%s: %s (deploys are missing above)", e.Source, e.Message))
		}
	}
	return nil
}

// parseSince reads a Go duration, or whole days as "3d".
func parseSince(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days > 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--since %q: use a duration like 90m, 2h or 3d", s)
	}
	return d, nil
}

// WriteLog prints the timeline in width columns: local time, age, what,
// the sha, and who and why.
func WriteLog(w io.Writer, events []board.Event, now time.Time, width int) {
	if len(events) == 0 {
		fmt.Fprintln(w, "nothing in that time")
		return
	}
	fmt.Fprintln(w, cmdutil.Clip("TIME              AGE   KIND    REV      WHAT", width))
	for _, e := range events {
		what := ""
		switch e.Kind {
		case board.EventCommit:
			what = cmdutil.FirstName(sanitize.Line(e.Author)) + ": " + sanitize.Line(e.Subject)
		case board.EventDeploy:
			by := e.InitiatedBy
			if by == "" {
				by = "unknown"
			}
			what = e.App + " deployed by " + sanitize.Line(by)
			if e.Reason != "" {
				what += ": " + sanitize.Line(e.Reason)
			}
		}
		line := fmt.Sprintf("%-16s  %-4s  %-6s  %-7s  %s", e.Time.In(now.Location()).Format("2006-01-02 15:04"), board.Age(now, e.Time), e.Kind, opsrepo.Short(e.Revision), what)
		fmt.Fprintln(w, cmdutil.Clip(line, width))
	}
}
