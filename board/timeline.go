package board

import (
	"sort"
	"time"

	"github.com/stagedeck/stagedeck/gitstate"
)

// EventKind says what an entry of the timeline is.
type EventKind string

// Timeline entries: a commit on the stage's paths, or an Argo CD deploy.
const (
	EventCommit EventKind = "commit"
	EventDeploy EventKind = "deploy"
)

// Event is one entry of a stage's timeline: what changed in git, and what
// Argo CD deployed, newest first. It answers "what changed in prod in the
// last two hours?".
type Event struct {
	Time     time.Time `json:"time"`
	Kind     EventKind `json:"kind"`
	Revision string    `json:"revision"`
	// Commits
	Author  string `json:"author,omitempty"`
	Subject string `json:"subject,omitempty"`
	// Deploys
	App         string `json:"app,omitempty"`
	InitiatedBy string `json:"initiatedBy,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Timeline merges a stage's commits (those that changed its, or one app's,
// directory) with the deploys of its apps (or the one app), newest first,
// since a time (zero = all).
func Timeline(st Stage, app string, commits []gitstate.Commit, since time.Time) []Event {
	var out []Event
	for _, c := range commits {
		if !c.Date.Before(since) {
			out = append(out, Event{Time: c.Date, Kind: EventCommit, Revision: c.SHA, Author: c.Author, Subject: c.Subject})
		}
	}
	for _, a := range st.Apps {
		if app != "" && a.Name != app {
			continue
		}
		for _, h := range a.History {
			if !h.DeployedAt.Before(since) {
				out = append(out, Event{Time: h.DeployedAt, Kind: EventDeploy, Revision: h.Revision, App: a.Name, InitiatedBy: h.InitiatedBy, Reason: h.Reason})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out
}
