package board

import (
	"maps"

	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/sanitize"
)

// Clone is a copy a console may change: its own stages, apps and
// known-healthy map (the apps' slices are shared, never changed in place).
func (b *Board) Clone() *Board {
	if b == nil {
		return nil
	}
	c := *b
	c.Stages = make([]Stage, len(b.Stages))
	for i, s := range b.Stages {
		s.Apps = append([]App(nil), s.Apps...)
		c.Stages[i] = s
	}
	c.KnownHealthy = maps.Clone(b.KnownHealthy)
	return &c
}

// Cleaned is a copy of the board fit for a terminal: every text that came
// from git or Argo CD (names, subjects, authors, messages, conditions,
// images, errors) has its control characters escaped. The board itself
// keeps exact values for JSON.
func (b *Board) Cleaned() *Board {
	if b == nil {
		return nil
	}
	c := *b
	c.Repo.URL, c.Repo.Branch = sanitize.Line(b.Repo.URL), sanitize.Line(b.Repo.Branch)
	c.Stages = make([]Stage, len(b.Stages))
	for i, s := range b.Stages {
		c.Stages[i] = s.Cleaned()
	}
	c.Errors = make([]Error, len(b.Errors))
	for i, e := range b.Errors {
		e.Source, e.Message = sanitize.Line(e.Source), sanitize.Line(e.Message)
		c.Errors[i] = e
	}
	return &c
}

// Cleaned is a copy of the stage fit for a terminal.
func (s Stage) Cleaned() Stage {
	s.Name, s.Path, s.Context, s.ArgoError = sanitize.Line(s.Name), sanitize.Line(s.Path), sanitize.Line(s.Context), sanitize.Line(s.ArgoError)
	s.Head = cleanCommitPtr(s.Head)
	apps := make([]App, len(s.Apps))
	for i, a := range s.Apps {
		apps[i] = a.Cleaned()
	}
	s.Apps = apps
	return s
}

// Cleaned is a copy of the app fit for a terminal.
func (a App) Cleaned() App {
	for _, f := range []*string{&a.Name, &a.Project, &a.Path, &a.SyncStatus, &a.HealthStatus, &a.DeployedRevision,
		&a.ComparedRevision, &a.TargetRevision, &a.OperationPhase, &a.OperationMessage} {
		*f = sanitize.Line(*f)
	}
	a.Head = cleanCommitPtr(a.Head)
	a.Running = cleanCommitPtr(a.Running)
	a.Pending = CleanCommits(a.Pending)
	a.MorePaths = sanitize.Lines(a.MorePaths)
	a.LinkedPaths = sanitize.Lines(a.LinkedPaths)
	a.Images = sanitize.Lines(a.Images)
	a.Conditions = sanitize.Lines(a.Conditions)
	if a.History != nil {
		h := make([]Deployed, len(a.History))
		for i, d := range a.History {
			d.Revision, d.InitiatedBy, d.Reason = sanitize.Line(d.Revision), sanitize.Line(d.InitiatedBy), sanitize.Line(d.Reason)
			h[i] = d
		}
		a.History = h
	}
	return a
}

// CleanCommit is a commit fit for a terminal.
func CleanCommit(c gitstate.Commit) gitstate.Commit {
	c.SHA, c.Author, c.Email, c.Subject = sanitize.Line(c.SHA), sanitize.Line(c.Author), sanitize.Line(c.Email), sanitize.Line(c.Subject)
	return c
}

// CleanCommits cleans a list of commits (nil stays nil).
func CleanCommits(cs []gitstate.Commit) []gitstate.Commit {
	if cs == nil {
		return nil
	}
	out := make([]gitstate.Commit, len(cs))
	for i, c := range cs {
		out[i] = CleanCommit(c)
	}
	return out
}

func cleanCommitPtr(c *gitstate.Commit) *gitstate.Commit {
	if c == nil {
		return nil
	}
	x := CleanCommit(*c)
	return &x
}
