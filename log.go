package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/sanitize"
)

// logLimit bounds the commits the timeline reads.
const logLimit = 500

func newLogCmd(g *globalFlags) *cobra.Command {
	var output, since string
	cmd := &cobra.Command{
		Use:   "log STAGE [APP]",
		Short: "What changed in a stage: its commits and Argo CD's deploys, newest first",
		Long: "Print a stage's timeline (or one app's): the ops-repo commits that changed its\n" +
			"directory, with the sha to revert, and Argo CD's deploys (revision, who started the\n" +
			"sync, the reason it was sent with), newest first. --since 2h (or 3d) limits it.",
		Example: "  stagedeck log prod --since 2h\n  stagedeck log prod api -o json | jq '.[] | select(.kind == \"deploy\")'",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return withCode(exitUsage, fmt.Errorf("unknown output %q: use -o table or -o json", output))
			}
			s, err := openSession(cmd.Context(), g, true)
			if err != nil {
				return err
			}
			defer s.Close()
			var from time.Time
			if since != "" {
				d, err := parseSince(since)
				if err != nil {
					return withCode(exitUsage, err)
				}
				from = s.now().Add(-d)
			}
			b, err := board.Collect(cmd.Context(), s.sources())
			if err != nil {
				return withCode(collectErrCode(err), err)
			}
			st, app, targets, err := stageArgs(s, b, args)
			if err != nil {
				return err
			}
			path := st.Path
			if app != "" {
				app, path = targets[0].App, targets[0].Path
			}
			head, err := s.repo.Resolve(b.Repo.Head)
			if err != nil {
				return withCode(exitUsage, err)
			}
			commits, err := s.repo.History(cmd.Context(), head, path, logLimit)
			if err != nil {
				return withCode(exitUsage, err)
			}
			events := board.Timeline(*st, app, commits, from)
			out := cmd.OutOrStdout()
			if output == "json" {
				if events == nil {
					events = []board.Event{}
				}
				data, err := json.MarshalIndent(events, "", "  ")
				if err != nil {
					return err
				}
				_, err = out.Write(append(sanitize.JSON(data), '\n'))
				return err
			}
			writeLog(sanitize.NewWriter(out), events, s.now(), 80)
			for _, e := range b.Errors {
				if e.Unreachable {
					// The commits are printed; the deploys are missing: 3, as status.
					return withCode(exitUnreachable, fmt.Errorf("%s: %s (deploys are missing above)", e.Source, e.Message))
				}
			}
			return nil
		},
		ValidArgsFunction: stageCompletion(g),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	cmd.Flags().StringVar(&since, "since", "", "only the last DURATION (e.g. 90m, 2h, 3d)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
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

// writeLog prints the timeline in width columns: local time, age, what,
// the sha, and who and why.
func writeLog(w io.Writer, events []board.Event, now time.Time, width int) {
	if len(events) == 0 {
		fmt.Fprintln(w, "nothing in that time")
		return
	}
	fmt.Fprintln(w, clip("TIME              AGE   KIND    REV      WHAT", width))
	for _, e := range events {
		what := ""
		switch e.Kind {
		case board.EventCommit:
			what = firstName(sanitize.Line(e.Author)) + ": " + sanitize.Line(e.Subject)
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
		fmt.Fprintln(w, clip(line, width))
	}
}
