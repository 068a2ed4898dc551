package serve

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/config"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/sanitize"
	"github.com/stagedeck/stagedeck/tui"
)

// guard holds an operator to the stages the config gives them, by what an
// action changes (the paths of the apps synced, the files a rollback
// commit changes), and to their own name on everything sent.
type guard struct {
	cfg         *config.Config
	op          config.Operator
	log         io.Writer // one line per action: who, with which key
	fingerprint string
}

func (g guard) record(what string) {
	if g.log != nil {
		fmt.Fprintf(g.log, "stagedeck serve: %s %s: %s\n", g.fingerprint, sanitize.Line(g.operator()), sanitize.Line(what))
	}
}

func (g guard) operator() string {
	return gitstate.Signature{Name: g.op.Name, Email: g.op.Email}.String()
}

// allow refuses when the paths touch a stage the operator may not act on.
func (g guard) allow(stage string, paths []string) error {
	stages := []string{stage}
	for _, st := range g.cfg.Touching(paths) {
		stages = append(stages, st.Name)
	}
	for _, st := range stages {
		if !slices.ContainsFunc(g.op.Stages, func(s string) bool { return strings.EqualFold(s, st) }) {
			return fmt.Errorf("%s may not act on %s over this server (their stages: %s)", g.op.Name, st, strings.Join(g.op.Stages, ", "))
		}
	}
	return nil
}

// guardedSyncer refuses in the pre-check, before anything is sent, and
// again at the send; it sends under the operator's name.
type guardedSyncer struct {
	tui.Syncer
	g guard
}

func (s guardedSyncer) CheckSync(ctx context.Context, stage string, apps []board.App) ([]tui.SyncCheck, error) {
	if err := s.g.allow(stage, board.AppPaths(apps)); err != nil {
		out := make([]tui.SyncCheck, len(apps))
		for i, a := range apps {
			out[i] = tui.SyncCheck{App: a.Name, Problem: err.Error()}
		}
		return out, nil
	}
	return s.Syncer.CheckSync(ctx, stage, apps)
}

func (s guardedSyncer) StartSyncs(ctx context.Context, stage string, reqs []appstate.SyncRequest) ([]tui.SyncStart, error) {
	if err := s.g.allow(stage, nil); err != nil {
		return nil, err
	}
	reqs = slices.Clone(reqs)
	for i := range reqs {
		reqs[i].Operator = s.g.operator()
		s.g.record("sync " + stage + " " + reqs[i].App + " to " + reqs[i].Revision)
	}
	return s.Syncer.StartSyncs(ctx, stage, reqs)
}

func (s guardedSyncer) Terminate(ctx context.Context, stage, app string) error {
	if err := s.g.allow(stage, nil); err != nil {
		return err
	}
	s.g.record("terminate " + stage + " " + app)
	return s.Syncer.Terminate(ctx, stage, app)
}

// guardedRollbacker builds and pushes only what the operator may change,
// authored by them.
type guardedRollbacker struct {
	tui.Rollbacker
	g guard
}

func (r guardedRollbacker) PrepareRollback(ctx context.Context, rb gitstate.Rollback) (*gitstate.Plan, error) {
	if err := r.g.allow(rb.Stage, nil); err != nil {
		return nil, err
	}
	rb.Operator = gitstate.ParseOperator(r.g.operator())
	plan, err := r.Rollbacker.PrepareRollback(ctx, rb)
	if err != nil {
		return nil, err
	}
	if err := r.g.allow(rb.Stage, plan.Paths()); err != nil {
		return nil, err
	}
	return plan, nil
}

func (r guardedRollbacker) PublishRollback(ctx context.Context, plan *gitstate.Plan, rb gitstate.Rollback) (gitstate.PublishResult, error) {
	if err := r.g.allow(rb.Stage, plan.Paths()); err != nil {
		return gitstate.PublishResult{}, err
	}
	rb.Operator = gitstate.ParseOperator(r.g.operator())
	allow := rb.Allow
	rb.Allow = func(paths []string) error { // a commit rebuilt at push time too
		if err := r.g.allow(rb.Stage, paths); err != nil {
			return err
		}
		if allow != nil {
			return allow(paths)
		}
		return nil
	}
	what := "rollback " + rb.Stage + ": revert " + rb.Revert
	if rb.RestoreTo != "" {
		what = "rollback " + rb.Stage + ": restore to " + rb.RestoreTo
	}
	r.g.record(what + ": " + rb.Reason)
	return r.Rollbacker.PublishRollback(ctx, plan, rb)
}
