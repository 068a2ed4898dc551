package argo

import "github.com/stagedeck/stagedeck/appstate"

// The values this client returns are appstate's: the rest of the program
// uses them without linking Argo CD.
type (
	App            = appstate.App
	Source         = appstate.Source
	Operation      = appstate.Operation
	ResourceResult = appstate.ResourceResult
	Deployed       = appstate.Deployed
	SyncRequest    = appstate.SyncRequest
	Observation    = appstate.Observation
	Resource       = appstate.Resource
)

// Sentinel errors callers branch on (appstate's, so they need not import argo).
var (
	ErrUnreachable      = appstate.ErrUnreachable
	ErrUnauthenticated  = appstate.ErrUnauthenticated
	ErrPermissionDenied = appstate.ErrPermissionDenied
	ErrNotFound         = appstate.ErrNotFound
	ErrReadOnly         = appstate.ErrReadOnly
	ErrOperationRunning = appstate.ErrOperationRunning
)

// Helpers kept here for the client's callers.
var (
	WithTimeout      = appstate.WithTimeout
	SameRevision     = appstate.SameRevision
	SameRepo         = appstate.SameRepo
	NormalizeRepoURL = appstate.NormalizeRepoURL
)
