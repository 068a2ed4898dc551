// Package deploy is what every path to Argo CD shares before and while it
// changes something: the revision check (a reviewed commit of the branch),
// the pre-checks (RBAC and sync windows), sending a sync exactly once, and
// following a terminate. The CLI and the console both use it.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/opsrepo"
	"github.com/stagedeck/stagedeck/sanitize"
)

// Client is what deploying needs of one Argo CD.
type Client interface {
	Get(ctx context.Context, name, refresh string) (appstate.App, error)
	Sync(ctx context.Context, r appstate.SyncRequest) (appstate.App, error)
	CanSync(ctx context.Context, project, app string) (bool, error)
	SyncWindows(ctx context.Context, app string) (bool, []string, error)
	Terminate(ctx context.Context, app string) error
}

// conflictRetries bounds the terminates sent after Argo CD gave up on one.
const conflictRetries = 3

// Terminate asks Argo CD to end app's running operation. Argo CD answers
// "Too many conflicts" when its controller kept updating the app while it
// tried: nothing was terminated then. The app is read again, and the
// terminate sent again only while the operation still runs.
func Terminate(ctx context.Context, c Client, app string) error {
	err := c.Terminate(ctx, app)
	for i := 0; i < conflictRetries && err != nil && strings.Contains(err.Error(), "Too many conflicts"); i++ {
		select {
		case <-time.After(time.Duration(i+1) * 300 * time.Millisecond):
		case <-ctx.Done():
			return err
		}
		cctx, cancel := appstate.WithTimeout(ctx)
		a, gerr := c.Get(cctx, app, "")
		cancel()
		if gerr != nil {
			return err
		}
		if !a.Operation.Running() && !a.Requested {
			return nil // it ended meanwhile: nothing to terminate
		}
		err = c.Terminate(ctx, app)
	}
	return err
}

// Check is the pre-check of one app: may it be synced now, and why not.
type Check struct {
	App     board.App
	Allowed bool
	Problem string // "sync window closed: deny ..." or "permission denied: ..."
}

// ReviewedRevision resolves rev and insists it is on the ops branch: a sync
// deploys a reviewed commit of the branch, nothing else.
func ReviewedRevision(ctx context.Context, repo *opsrepo.Repo, rev string) (string, error) {
	if rev == "" {
		return "", errors.New("no revision: pass --revision SHA, the commit you reviewed (see `stagedeck diff`)")
	}
	h, err := repo.Resolve(rev)
	if err != nil {
		if strings.Contains(err.Error(), "digits") { // too short, or ambiguous: say which
			return "", err
		}
		return "", fmt.Errorf("revision %s is not in the ops repository: fetch, or check the sha", rev)
	}
	head, err := repo.Head()
	if err != nil {
		return "", err
	}
	if h != head {
		p, err := repo.Pending(ctx, head, h.String(), nil)
		if err != nil {
			return "", err
		}
		if !p.Ancestor {
			return "", fmt.Errorf("revision %s is not on branch %s (rewritten since it was reviewed?): review the branch's head and sync that", opsrepo.Short(h.String()), repo.Branch())
		}
	}
	return h.String(), nil
}

// Checks asks Argo CD, before anything is sent, whether each app may be
// synced: RBAC (CanI sync on project/app) and the sync windows.
func Checks(ctx context.Context, c Client, apps []board.App) []Check {
	out := make([]Check, len(apps))
	for i, a := range apps {
		out[i] = Check{App: a, Allowed: true}
		cctx, cancel := appstate.WithTimeout(ctx)
		can, err := c.CanSync(cctx, a.Project, a.Name)
		cancel()
		switch {
		case err != nil:
			out[i].Allowed, out[i].Problem = false, err.Error()
			continue
		case !can:
			out[i].Allowed, out[i].Problem = false, fmt.Sprintf("permission denied: your Argo CD account may not sync %s/%s", a.Project, a.Name)
			continue
		}
		cctx, cancel = appstate.WithTimeout(ctx)
		open, active, err := c.SyncWindows(cctx, a.Name)
		cancel()
		switch {
		case err != nil:
			out[i].Allowed, out[i].Problem = false, err.Error()
		case !open:
			out[i].Allowed, out[i].Problem = false, "sync window closed: "+strings.Join(active, "; ")
		}
	}
	return out
}

// Prepared is a sync checked against the app as Argo CD has it, ready to
// send.
type Prepared struct {
	Req         appstate.SyncRequest
	PrevStarted time.Time // the previous operation's start, to tell ours from it
}

// Prepare reads the app as Argo CD has it and checks the sync against it,
// sending nothing: no operation may be pending or running, an app with
// several sources has its ops repository's sources pinned by position, and
// an app with auto-sync is not pinned. A stage's syncs are all prepared
// before any is sent, so a refusal never leaves a stage half synced.
func Prepare(ctx context.Context, c Client, req appstate.SyncRequest) (Prepared, error) {
	cctx, cancel := appstate.WithTimeout(ctx)
	before, err := c.Get(cctx, req.App, "")
	cancel()
	if err != nil {
		return Prepared{}, err
	}
	if before.Requested || before.Operation.Running() {
		return Prepared{}, fmt.Errorf("%s: %w", req.App, appstate.ErrOperationRunning)
	}
	pinned := before.Sources
	if before.MultiSource {
		// Argo CD would sync each source to its target (the branch's head,
		// unreviewed): the ops repository's sources are pinned by position.
		req.Sources, pinned = nil, nil
		for i, src := range before.Sources {
			if appstate.SameRepo(src.RepoURL, req.RepoURLs) {
				req.Sources, pinned = append(req.Sources, i+1), append(pinned, src)
			}
		}
		if len(req.Sources) == 0 {
			return Prepared{}, fmt.Errorf("%s has several sources and none is the ops repository: nothing to pin to %s (check opsRepo.url against the app's sources)", req.App, gitstate.Short(req.Revision))
		}
	}
	// Checked again on the app as Argo CD has it now, not as the board
	// showed it: auto-sync may have been turned on since.
	for _, src := range pinned {
		if why := appstate.PinRefusal(before.AutoSync, src.TargetRevision, req.Revision, req.DryRun); why != "" {
			return Prepared{}, fmt.Errorf("%s: %s", req.App, why)
		}
	}
	return Prepared{Req: req, PrevStarted: before.Operation.StartedAt}, nil
}

// Send sends a prepared sync, once: on a timeout the outcome is unknown,
// so the caller follows the app instead of sending again.
func Send(ctx context.Context, c Client, p Prepared) (requested time.Time, err error) {
	requested = time.Now()
	_, err = c.Sync(ctx, p.Req)
	return requested, err
}

// ProgressLine is one line of `sync --wait` output.
func ProgressLine(app string, o appstate.Observation) string {
	switch {
	case o.Reconnecting:
		return fmt.Sprintf("%s: connection lost (%v); re-attaching to the running operation", app, o.Err)
	case !o.Ours:
		return fmt.Sprintf("%s: waiting for Argo CD to start the operation", app)
	}
	op := o.App.Operation.Cleaned()
	line := fmt.Sprintf("%s: %s", app, op.Phase)
	if op.Message != "" {
		line += ": " + op.Message
	}
	if op.Phase == "Succeeded" || o.Finished {
		line += fmt.Sprintf(" (health %s)", sanitize.Line(o.App.Health))
	}
	for _, r := range op.Resources {
		if r.Status != "Synced" {
			line += fmt.Sprintf("; %s/%s %s: %s", r.Kind, r.Name, r.Status, r.Message)
		}
	}
	return line
}

// TerminateWait is how long terminate watches for the operation to end.
const TerminateWait = 15 * time.Second

// FollowTerminate polls the app until its operation left Running and
// Terminating, and returns the last phase seen ("Running" if it never did).
func FollowTerminate(ctx context.Context, c Client, app string, wait time.Duration) string {
	deadline := time.Now().Add(wait)
	phase := "Running"
	for {
		cctx, cancel := appstate.WithTimeout(ctx)
		a, err := c.Get(cctx, app, "")
		cancel()
		if err == nil {
			phase = a.Operation.Phase
			if phase != "Running" && phase != "Terminating" {
				if a.Operation.Message != "" {
					phase += ": " + a.Operation.Message
				}
				return phase
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if phase == "Terminating" {
				return "Terminating (Argo CD is ending it)"
			}
			return "Running"
		}
		time.Sleep(300 * time.Millisecond)
	}
}
