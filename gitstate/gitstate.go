// Package gitstate holds the ops repository's values as the rest of the
// program passes them around (commits, rollbacks, their plans and results,
// the operator), without go-git's repository, transports and crypto: only
// opsrepo, which reads and writes the repository, links those.
package gitstate

import (
	"errors"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stagedeck/stagedeck/patch"
)

// Sentinel errors callers branch on without importing opsrepo.
var (
	ErrUnknownPath     = errors.New("path not in the ops repository")
	ErrUnknownRevision = errors.New("revision not in the ops repository")
)

// Commit is one ops-repo commit as the board shows it.
type Commit struct {
	SHA     string    `json:"sha"`
	Author  string    `json:"author"`
	Email   string    `json:"-"`
	Date    time.Time `json:"date"`
	Subject string    `json:"subject"`
}

// ShortSHA is the 7-character abbreviation.
func (c Commit) ShortSHA() string { return Short(c.SHA) }

// Short abbreviates a sha to 7 characters.
func Short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// ParseOperator splits "Name <email>"; a bare name has no email.
func ParseOperator(op string) Signature {
	name, email, ok := strings.Cut(op, "<")
	if !ok {
		return Signature{Name: strings.TrimSpace(op)}
	}
	return Signature{Name: strings.TrimSpace(name), Email: strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(email), ">"))}
}

// String is "Name <email>", as git writes an identity.
func (s Signature) String() string { return userString(s.Name, s.Email) }

func userString(name, email string) string {
	if email != "" {
		return name + " <" + email + ">"
	}
	return name
}

// Rollback describes a revert or restore commit.
type Rollback struct {
	Stage     string // stage name, for the message
	Path      string // the stage directory: nothing outside it changes
	Revert    string // revert this commit's changes ...
	RestoreTo string // ... or make Path identical to its state at this commit
	Reason    string
	Operator  Signature
	// FromRunning rolls these app directories back from what Argo CD runs
	// (revert only): each is set to its content at the deployed revision
	// with the reverted commit undone, so the commits never deployed there
	// are undone in git too (and named in the message to re-apply them).
	FromRunning []RunningApp
	// Allow, when set, approves the files a commit rebuilt at push time
	// changes (someone pushed meanwhile): the protection confirmed for the
	// previewed commit must cover the rebuilt one too, or nothing is pushed.
	Allow func(paths []string) error
	// Readers, when set, names the paths of the apps that read any of
	// files (a value file an Application names): the rollback changes what
	// they deploy, so they count among the plan's paths (Plan.Linked).
	Readers func(files []string) []string
}

// RunningApp is an app directory and the revision Argo CD deployed from it.
type RunningApp struct {
	Path, Deployed string
}

// Plan is a rollback commit built on a head but not yet on any branch.
type Plan struct {
	Parent  plumbing.Hash
	Commit  plumbing.Hash
	Message string
	Pairs   []patch.Pair // the exact change the commit makes
	// Linked are the paths that read the changed files through symbolic
	// links (before or after the commit): the rollback changes what they
	// deploy too.
	Linked []string
}

// PublishResult says how a rollback landed.
type PublishResult struct {
	Commit   plumbing.Hash
	Attempts int
	// Rebased: the remote moved and the rollback was rebuilt on its new head.
	Rebased bool
}

// Paths are the files the commit changes (both sides of renames) and
// the paths that read them through links.
func (p *Plan) Paths() []string {
	return append(p.Files(), p.Linked...)
}

// Files are the files the commit changes (both sides of renames).
func (p *Plan) Files() []string {
	var out []string
	for _, pr := range p.Pairs {
		if pr.From != nil {
			out = append(out, pr.From.Path)
		}
		if pr.To != nil && (pr.From == nil || pr.To.Path != pr.From.Path) {
			out = append(out, pr.To.Path)
		}
	}
	return out
}

// Pending is what a path still lacks between a deployed revision and head.
type Pending struct {
	// Ancestor is false when deployed is not an ancestor of head (a rewritten
	// or foreign revision): Commits then holds everything head has that deployed lacks.
	Ancestor bool
	// Commits per path, newest first: the commits in deployed..head that changed it.
	Commits map[string][]Commit
}

// Signature names who made a commit and when.
type Signature struct {
	Name, Email string
	When        time.Time
}
