package argo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
)

// SyncWindows reports whether a manual sync of app is allowed now, and the
// active windows as "deny 0 0 * * * for 24h".
func (c *Client) SyncWindows(ctx context.Context, app string) (bool, []string, error) {
	name, ns, err := c.address(app)
	if err != nil {
		return false, nil, err
	}
	q := &application.ApplicationSyncWindowsQuery{Name: &name}
	if ns != "" {
		q.AppNamespace = &ns
	}
	res, err := c.apps.GetApplicationSyncWindows(ctx, q)
	if err != nil {
		return false, nil, c.wrap("sync windows of "+app, err)
	}
	var active []string
	for _, w := range res.ActiveWindows {
		d := fmt.Sprintf("%s %q for %s", w.GetKind(), w.GetSchedule(), w.GetDuration())
		if w.GetManualSync() {
			d += " (manual sync allowed)"
		}
		active = append(active, d)
	}
	return res.GetCanSync(), active, nil
}

// Follower watches one app until the requested sync finishes, re-attaching
// to the operation when the stream drops; it never sends anything.
type Follower struct {
	c         *Client
	ctx       context.Context
	app       string
	revision  string
	requested time.Time
	prev      time.Time // startedAt of the operation before ours
	dryRun    bool
	w         *Watcher
	stop      context.CancelFunc
	backoff   time.Duration
}

// Follow starts following a sync of app to revision requested at requested;
// prevStarted is the previous operation's startedAt (zero if none).
func (c *Client) Follow(ctx context.Context, app, revision string, requested, prevStarted time.Time, dryRun bool) *Follower {
	return &Follower{c: c, ctx: ctx, app: app, revision: revision, requested: requested, prev: prevStarted, dryRun: dryRun}
}

// Next blocks for the next observation; the caller stops at a Finished one.
func (f *Follower) Next() (Observation, error) {
	if err := f.ctx.Err(); err != nil {
		return Observation{}, err
	}
	if f.w == nil {
		if f.backoff > 0 {
			select {
			case <-time.After(f.backoff):
			case <-f.ctx.Done():
				return Observation{}, f.ctx.Err()
			}
		}
		wctx, stop := context.WithCancel(f.ctx)
		w, err := f.c.Watch(wctx, f.app)
		if err != nil {
			stop()
			if !errors.Is(err, ErrUnreachable) {
				return Observation{}, err
			}
			f.bump()
			return Observation{Reconnecting: true, Err: err}, nil
		}
		f.w, f.stop, f.backoff = w, stop, 0
	}
	ev, err := f.w.Next()
	if err != nil {
		f.Close()
		if errors.Is(err, ErrUnreachable) || errors.Is(err, context.DeadlineExceeded) {
			f.bump()
			return Observation{Reconnecting: true, Err: err}, nil
		}
		return Observation{}, err
	}
	if ev.Type == Deleted {
		return Observation{}, fmt.Errorf("%w: %s was deleted during the sync", ErrNotFound, f.app)
	}
	return f.observe(ev.App), nil
}

func (f *Follower) bump() {
	switch {
	case f.backoff == 0:
		f.backoff = 500 * time.Millisecond
	case f.backoff < 10*time.Second:
		f.backoff *= 2
	}
}

// observe applies Argo CD's rules for "this is our operation": no pending
// operation, started at or after the request (or after the previous one),
// and the result's revision is the one requested.
func (f *Follower) observe(a App) Observation {
	o := Observation{App: a}
	op := a.Operation
	started := !op.StartedAt.Before(f.requested.Truncate(time.Second)) || op.StartedAt.After(f.prev)
	if f.prev.IsZero() {
		started = !op.StartedAt.IsZero() && !op.StartedAt.Before(f.requested.Add(-time.Minute))
	}
	revOK := op.Revision == "" || SameRevision(op.Revision, f.revision)
	o.Ours = !a.Requested && op.Phase != "" && started && revOK
	if !o.Ours {
		return o
	}
	switch op.Phase {
	case "Failed", "Error":
		o.Finished = true
	case "Succeeded":
		if f.dryRun || a.Health == "Healthy" || a.Health == "Degraded" {
			o.Finished = true
		}
	}
	return o
}

// Close stops watching.
func (f *Follower) Close() {
	if f.stop != nil {
		f.stop()
	}
	f.w, f.stop = nil, nil
}
