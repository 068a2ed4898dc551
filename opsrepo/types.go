package opsrepo

import "github.com/stagedeck/stagedeck/gitstate"

// The values this package returns are gitstate's: the console and the
// domain use them without linking go-git's repository and transports.
type (
	Commit        = gitstate.Commit
	Pending       = gitstate.Pending
	Rollback      = gitstate.Rollback
	RunningApp    = gitstate.RunningApp
	Plan          = gitstate.Plan
	PublishResult = gitstate.PublishResult
	Signature     = gitstate.Signature
)

// Helpers kept here for the package's callers.
var (
	Short         = gitstate.Short
	ParseOperator = gitstate.ParseOperator
)

func userString(name, email string) string { return Signature{Name: name, Email: email}.String() }
