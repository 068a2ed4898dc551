package cmdutil

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stagedeck/stagedeck/appstate"
	"github.com/stagedeck/stagedeck/board"
	"github.com/stagedeck/stagedeck/review"
	"github.com/stagedeck/stagedeck/session"
)

// UnknownStage is the usage error for a stage the config does not have.
func UnknownStage(s *session.Session, name string) error {
	return WithCode(ExitUsage, fmt.Errorf("no stage %q: stages are %s", name, strings.Join(s.Cfg.StageNames(), ", ")))
}

// StageArgs reads STAGE [APP] from a command line against the board: the
// stage, the app as given, and the targets it names (exit 2 when unknown).
func StageArgs(s *session.Session, b *board.Board, args []string) (*board.Stage, string, []review.Target, error) {
	st, ok := b.Stage(args[0])
	if !ok {
		return nil, "", nil, UnknownStage(s, args[0])
	}
	app := ""
	if len(args) == 2 {
		app = args[1]
	}
	targets, err := review.Targets(st, app)
	if err != nil {
		return nil, "", nil, WithCode(ExitUsage, err)
	}
	return st, app, targets, nil
}

// SyncErrCode maps an error from sending to Argo CD: read-only is the
// configuration (2), an unreachable or unauthenticated Argo CD 3, and
// anything Argo CD refused (an operation running, permission) 1.
func SyncErrCode(err error) int {
	switch {
	case errors.Is(err, appstate.ErrReadOnly):
		return ExitUsage
	case errors.Is(err, appstate.ErrUnreachable), errors.Is(err, appstate.ErrUnauthenticated):
		return ExitUnreachable
	}
	return ExitRefused
}
