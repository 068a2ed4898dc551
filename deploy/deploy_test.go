package deploy

import (
	"context"
	"errors"
	"testing"

	"github.com/stagedeck/stagedeck/appstate"
)

// conflicted answers terminate with Argo CD's conflict error n times.
type conflicted struct {
	n, sent int
	phase   string
}

func (c *conflicted) Get(context.Context, string, string) (appstate.App, error) {
	return appstate.App{Operation: appstate.Operation{Phase: c.phase}}, nil
}
func (c *conflicted) Sync(context.Context, appstate.SyncRequest) (appstate.App, error) {
	return appstate.App{}, errors.New("not here")
}
func (c *conflicted) CanSync(context.Context, string, string) (bool, error) { return true, nil }
func (c *conflicted) SyncWindows(context.Context, string) (bool, []string, error) {
	return true, nil, nil
}
func (c *conflicted) Terminate(context.Context, string) error {
	c.sent++
	if c.sent <= c.n {
		return errors.New("argo cd x: terminate perf-api: Failed to terminate app. Too many conflicts")
	}
	return nil
}

func TestTerminateAfterConflicts(t *testing.T) {
	c := &conflicted{n: 2, phase: "Running"}
	if err := Terminate(context.Background(), c, "perf-api"); err != nil || c.sent != 3 {
		t.Errorf("two conflicts while running: %v after %d sends, want success after 3", err, c.sent)
	}
	c = &conflicted{n: 1, phase: "Succeeded"}
	if err := Terminate(context.Background(), c, "perf-api"); err != nil || c.sent != 1 {
		t.Errorf("a conflict after the operation ended: %v after %d sends, want nothing sent again", err, c.sent)
	}
	c = &conflicted{n: 10, phase: "Running"}
	if err := Terminate(context.Background(), c, "perf-api"); err == nil || c.sent != 1+conflictRetries {
		t.Errorf("conflicts that never end: %v after %d sends, want the error after %d", err, c.sent, 1+conflictRetries)
	}
}
