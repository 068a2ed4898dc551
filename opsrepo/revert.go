package opsrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/stagedeck/stagedeck/patch"
)

// Sentinel errors of rollbacks.
var (
	ErrConflict     = errors.New("the revert no longer applies")
	ErrNothingToDo  = errors.New("nothing to change")
	ErrPushRejected = errors.New("push rejected")
	ErrAuth         = errors.New("git authentication failed")
	ErrNoRemote     = errors.New("no remote to push to")
)

// ConflictError names the files whose later changes overlap the revert and
// the commits that made them.
type ConflictError struct {
	Files   []string
	Commits []Commit
}

func (e *ConflictError) Error() string {
	var cs []string
	for _, c := range e.Commits {
		cs = append(cs, fmt.Sprintf("%s %q (%s)", c.ShortSHA(), c.Subject, c.Author))
	}
	return fmt.Sprintf("%v: later commits changed the same lines of %s: %s", ErrConflict, strings.Join(e.Files, ", "), strings.Join(cs, ", "))
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// PrepareRollback builds the rollback commit on the current head. Nothing
// moves: the caller previews Plan.Pairs, then Publishes.
func (r *Repo) PrepareRollback(ctx context.Context, rb Rollback) (*Plan, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.head()
	if err != nil {
		return nil, err
	}
	return r.prepareOn(ctx, head, rb)
}

func (r *Repo) prepareOn(ctx context.Context, head plumbing.Hash, rb Rollback) (*Plan, error) {
	if r.opts.ReadOnly {
		return nil, fmt.Errorf("rollback of %s: %w", rb.Stage, ErrReadOnly)
	}
	dir := strings.Trim(rb.Path, "/")
	var changes []FileChange
	var msg string
	switch {
	case rb.Revert != "":
		target, err := r.resolve(rb.Revert)
		if err != nil {
			return nil, err
		}
		c, err := r.repo.CommitObject(target)
		if err != nil {
			return nil, err
		}
		if len(c.ParentHashes) != 1 {
			return nil, fmt.Errorf("%s is a merge or root commit: use restore-to instead of revert", Short(target.String()))
		}
		var running []string
		for _, a := range rb.FromRunning {
			running = append(running, strings.Trim(a.Path, "/"))
		}
		changes, err = r.revertChanges(ctx, head, c.ParentHashes[0], target, dir, running)
		if err != nil && !(errors.Is(err, ErrNothingToDo) && len(running) > 0) {
			return nil, err
		}
		info, _ := r.commitInfo(target)
		msg = fmt.Sprintf("Revert %q\n\nThis reverts commit %s in stage %s (%s/).\n", info.Subject, target, rb.Stage, dir)
		if len(rb.FromRunning) > 0 {
			fc, note, err := r.fromRunning(ctx, head, c.ParentHashes[0], target, rb)
			if err != nil {
				return nil, err
			}
			changes = append(changes, fc...)
			msg += note
		}
	case rb.RestoreTo != "":
		good, err := r.resolve(rb.RestoreTo)
		if err != nil {
			return nil, err
		}
		sub, err := r.subtree(good, dir)
		if err != nil {
			return nil, err
		}
		if sub == nil {
			return nil, fmt.Errorf("%s/ did not exist at %s: pick a later commit", dir, Short(good.String()))
		}
		changes = []FileChange{{Path: dir, Subtree: sub.Hash}}
		info, _ := r.commitInfo(good)
		msg = fmt.Sprintf("Restore %s to %s\n\nMakes %s/ identical to its state at commit %s (%q).\n", rb.Stage, Short(good.String()), dir, good, info.Subject)
	default:
		return nil, errors.New("rollback needs a commit to revert or to restore to")
	}
	msg += "\nReason: " + oneLine(rb.Reason) + "\nOperator: " + userString(rb.Operator.Name, rb.Operator.Email) + "\n"
	when := rb.Operator.When
	if when.IsZero() {
		when = time.Now()
	}
	commit, err := r.writeCommit(head, changes, Signature{Name: rb.Operator.Name, Email: rb.Operator.Email, When: when}, msg)
	if err != nil {
		return nil, err
	}
	a, _ := r.subtree(head, dir)
	b, _ := r.subtree(commit, dir)
	pairs, err := r.treeChanges(ctx, a, b, dir+"/", dir+"/", true)
	if err != nil {
		return nil, err
	}
	r.markSecretRefs(pairs, head, "", commit, "")
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%w: %s/ already has that content at %s", ErrNothingToDo, dir, Short(head.String()))
	}
	plan := &Plan{Parent: head, Commit: commit, Message: msg, Pairs: pairs}
	files := plan.Files()
	seen := map[string]bool{}
	link := func(ps []string) {
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				plan.Linked = append(plan.Linked, p)
			}
		}
	}
	// Links of either side: the rollback may retarget one.
	for _, h := range []plumbing.Hash{head, commit} {
		l, err := r.linksLocked(h)
		if err != nil {
			return nil, err
		}
		link(l.Aliases(files))
	}
	// And the apps whose Application names the files (helm value files…).
	if rb.Readers != nil {
		link(rb.Readers(append(files, plan.Linked...)))
	}
	return plan, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// revertChanges undoes, on head, what target changed (against parent)
// inside dir, merging line by line with later changes to the same files.
// Files inside the directories in skip are left alone.
func (r *Repo) revertChanges(ctx context.Context, head, parent, target plumbing.Hash, dir string, skip []string) ([]FileChange, error) {
	p, err := r.subtree(parent, dir)
	if err != nil {
		return nil, err
	}
	t, err := r.subtree(target, dir)
	if err != nil {
		return nil, err
	}
	pairs, err := r.treeChanges(ctx, p, t, dir+"/", dir+"/", false)
	if err != nil {
		return nil, err
	}
	kept := pairs[:0]
	for _, pr := range pairs {
		if !inAny(pathOf(pr), skip) {
			kept = append(kept, pr)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("%w: commit %s did not change %s/", ErrNothingToDo, Short(target.String()), dir)
	}
	pairs = kept
	var out []FileChange
	var conflicts []string
	for _, pr := range pairs {
		path := pathOf(pr)
		cur, curMode, exists, err := r.fileAt(head, path)
		if err != nil {
			return nil, err
		}
		var before, after []byte // the file before and after target
		var beforeMode, afterMode filemode.FileMode
		if pr.From != nil {
			before, beforeMode = pr.From.Content, filemode.FileMode(pr.From.Mode)
		}
		if pr.To != nil {
			after, afterMode = pr.To.Content, filemode.FileMode(pr.To.Mode)
		}
		// A symbolic link is its target: merged only whole, never line by line.
		link := curMode == filemode.Symlink || beforeMode == filemode.Symlink || afterMode == filemode.Symlink
		switch {
		case pr.To == nil: // target deleted it: bring it back
			if !exists {
				out = append(out, FileChange{Path: path, Content: before, Mode: beforeMode})
			} else if !bytes.Equal(cur, before) || curMode != beforeMode {
				conflicts = append(conflicts, path)
			}
		case !exists: // deleted since
			conflicts = append(conflicts, path)
		case bytes.Equal(cur, after) && curMode == afterMode: // untouched since: take the old version
			if pr.From == nil {
				out = append(out, FileChange{Path: path, Delete: true})
			} else {
				out = append(out, FileChange{Path: path, Content: before, Mode: beforeMode})
			}
		case pr.From == nil || link || patch.IsBinary(cur) || patch.IsBinary(after) || patch.IsBinary(before):
			conflicts = append(conflicts, path)
		default:
			merged, ok := merge3(string(after), string(cur), string(before))
			if !ok {
				conflicts = append(conflicts, path)
				continue
			}
			// The file keeps its mode unless target changed it.
			mode := curMode
			if beforeMode != afterMode && curMode == afterMode {
				mode = beforeMode
			}
			out = append(out, FileChange{Path: path, Content: []byte(merged), Mode: mode})
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		ce := &ConflictError{Files: conflicts}
		pend, err := r.pendingLocked(ctx, head, target.String(), conflicts)
		if err == nil {
			seen := map[string]bool{}
			for _, f := range conflicts {
				for _, c := range pend.Commits[f] {
					if !seen[c.SHA] {
						seen[c.SHA] = true
						ce.Commits = append(ce.Commits, c)
					}
				}
			}
		}
		return nil, ce
	}
	return out, nil
}

func pathOf(p patch.Pair) string {
	if p.To != nil {
		return p.To.Path
	}
	return p.From.Path
}

// fileAt reads path at commit h, and its mode; exists is false when it is
// absent.
func (r *Repo) fileAt(h plumbing.Hash, path string) ([]byte, filemode.FileMode, bool, error) {
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return nil, 0, false, err
	}
	f, err := c.File(path)
	if err != nil {
		return nil, 0, false, nil
	}
	s, err := f.Contents()
	return []byte(s), f.Mode, true, err
}

// maxPushAttempts bounds fetch-and-reapply retries under concurrent pushes.
const maxPushAttempts = 4

// Publish pushes a prepared rollback to the ops branch, never forcing. When
// the remote moved meanwhile it fetches, rebuilds the rollback on the new
// head and tries again; it refuses when the rollback no longer applies, or
// when rebuilt it would change other lines than the reviewed one did (a
// restore on a head with someone's new commit would undo it unseen).
func (r *Repo) Publish(ctx context.Context, plan *Plan, rb Rollback) (PublishResult, error) {
	reviewed := plan
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opts.ReadOnly {
		return PublishResult{}, fmt.Errorf("push: %w", ErrReadOnly)
	}
	res := PublishResult{Commit: plan.Commit}
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		err := r.pushLocked(ctx, plan.Parent, plan.Commit)
		if err == nil {
			res.Commit = plan.Commit
			return res, nil
		}
		if !errors.Is(err, ErrPushRejected) || attempt >= maxPushAttempts {
			return res, err
		}
		// Someone pushed first: fetch and rebuild on their head.
		if err := r.fetchLocked(ctx); err != nil {
			return res, err
		}
		head, err := r.head()
		if err != nil {
			return res, err
		}
		next, err := r.prepareOn(ctx, head, rb)
		if err != nil {
			return res, fmt.Errorf("the remote moved to %s and %w", Short(head.String()), err)
		}
		if rb.Allow != nil {
			if err := rb.Allow(next.Paths()); err != nil {
				return res, fmt.Errorf("%w: the remote moved to %s and the rebuilt rollback %v; nothing was pushed", ErrPushRejected, Short(head.String()), err)
			}
		}
		path, same := sameChange(reviewed.Pairs, next.Pairs)
		if same && (rb.RestoreTo != "" || len(rb.FromRunning) > 0) {
			// A restore writes whole files: rebuilt, it is the reviewed one
			// only if the files it replaces are those it replaced.
			path, same = sameBase(reviewed.Pairs, next.Pairs)
		}
		if !same {
			return res, fmt.Errorf("%w: the remote moved to %s, and rebuilt on it the rollback would change %s otherwise than the diff you reviewed (it would undo or add someone's change): review it again; nothing was pushed",
				ErrPushRejected, Short(head.String()), path)
		}
		plan, res.Rebased = next, true
	}
}

// pushLocked moves the remote branch from parent to commit (fast-forward
// only); without a remote it moves a bare repository's branch in place.
func (r *Repo) pushLocked(ctx context.Context, parent, commit plumbing.Hash) error {
	branch := plumbing.NewBranchReferenceName(r.opts.Branch)
	if _, err := r.repo.Remote("origin"); errors.Is(err, git.ErrRemoteNotFound) {
		if wt, err := r.repo.Worktree(); err == nil && wt != nil {
			return fmt.Errorf("%w: %s is a working copy without an origin; point opsRepo.url at the remote", ErrNoRemote, r.dir)
		}
		err := r.setBranchLocked(parent, commit)
		if errors.Is(err, ErrBranchMoved) {
			return fmt.Errorf("%w: %v", ErrPushRejected, err)
		}
		return err
	}
	tmp := plumbing.ReferenceName("refs/stagedeck/rollback")
	if err := r.repo.Storer.SetReference(plumbing.NewHashReference(tmp, commit)); err != nil {
		return err
	}
	defer r.repo.Storer.RemoveReference(tmp)
	err := r.repo.PushContext(ctx, &git.PushOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{config.RefSpec(tmp.String() + ":" + branch.String())},
		// Compare-and-swap: only if the remote is still at the head we built on.
		RequireRemoteRefs: []config.RefSpec{config.RefSpec(parent.String() + ":" + branch.String())},
		Auth:              r.opts.Auth,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return classifyPushError(r.display, err)
	}
	// Record what the remote now has.
	name := branch
	if r.local {
		name = plumbing.NewRemoteReferenceName("origin", r.opts.Branch)
	}
	return r.repo.Storer.SetReference(plumbing.NewHashReference(name, commit))
}

// classifyPushError turns go-git's push errors into our sentinels with a fix.
func classifyPushError(url string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "non-fast-forward"), strings.Contains(msg, "required to be"),
		strings.Contains(msg, "fetch first"), strings.Contains(msg, "failed to update ref"), errors.Is(err, git.ErrForceNeeded):
		return fmt.Errorf("%w: %s moved: %v", ErrPushRejected, url, err)
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		strings.Contains(msg, "unable to authenticate"), strings.Contains(msg, "permission denied"), strings.Contains(msg, "Permission denied"):
		return fmt.Errorf("%w: push to %s: %v: set STAGEDECK_GIT_TOKEN, configure a git credential helper, or load your key into ssh-agent (STAGEDECK_SSH_KEY)", ErrAuth, url, err)
	case strings.Contains(msg, "knownhosts"), strings.Contains(msg, "key mismatch"):
		return fmt.Errorf("%w: push to %s: host key not trusted: %v: add the host to ~/.ssh/known_hosts", ErrAuth, url, err)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("push to %s: repository not found: check opsRepo.url", url)
	}
	return fmt.Errorf("push to %s: %w: %v", url, ErrUnreachable, err)
}

// inAny reports whether path lies inside one of dirs.
func inAny(path string, dirs []string) bool {
	for _, d := range dirs {
		if path == d || strings.HasPrefix(path, d+"/") {
			return true
		}
	}
	return false
}

// fromRunning sets each running app's directory to its deployed content
// with target undone, and says in the message what that undid.
func (r *Repo) fromRunning(ctx context.Context, head, parent, target plumbing.Hash, rb Rollback) ([]FileChange, string, error) {
	var changes []FileChange
	var note strings.Builder
	note.WriteString("\nRolled back from what is running:\n")
	for _, a := range rb.FromRunning {
		path := strings.Trim(a.Path, "/")
		dep, err := r.resolve(a.Deployed)
		if err != nil {
			return nil, "", fmt.Errorf("%s: deployed revision %s: %w", path, Short(a.Deployed), err)
		}
		base := dep
		if p, err := r.pendingLocked(ctx, dep, target.String(), nil); err == nil && p.Ancestor {
			// What runs includes the bad commit: undo it on top of it.
			fc, err := r.revertChanges(ctx, dep, parent, target, path, nil)
			switch {
			case errors.Is(err, ErrNothingToDo):
			case err != nil:
				return nil, "", err
			default:
				if base, err = r.writeCommit(dep, fc, rb.Operator, "stagedeck: "+path+" as running, reverted"); err != nil {
					return nil, "", err
				}
			}
		}
		sub, err := r.subtree(base, path)
		if err != nil {
			return nil, "", err
		}
		if sub == nil {
			changes = append(changes, FileChange{Path: path, Delete: true})
		} else {
			changes = append(changes, FileChange{Path: path, Subtree: sub.Hash})
		}
		fmt.Fprintf(&note, "  %s/ as deployed at %s\n", path, Short(dep.String()))
		pend, err := r.pendingLocked(ctx, head, dep.String(), []string{path})
		if err != nil {
			return nil, "", err
		}
		for _, c := range pend.Commits[path] {
			if c.SHA != target.String() {
				fmt.Fprintf(&note, "  also undoes %s %q (never deployed there; re-apply it if still wanted)\n", c.ShortSHA(), oneLine(c.Subject))
			}
		}
	}
	return changes, note.String(), nil
}

// sameChange reports whether two rollbacks change the same files by the
// same lines: per file, the lines removed and the lines added (as
// multisets, context aside). A revert rebuilt on a head where someone
// changed other lines of its files is the same change; a restore that
// would now also undo their lines is not. The first differing path is
// returned.
func sameChange(a, b []patch.Pair) (string, bool) {
	changes := func(ps []patch.Pair) map[string][2]map[string]int {
		out := map[string][2]map[string]int{}
		for _, p := range ps {
			var from, to []byte
			key := ""
			if p.From != nil {
				from, key = p.From.Content, p.From.Path
			}
			if p.To != nil {
				to = p.To.Content
				key += " -> " + p.To.Path
			}
			count := map[string]int{}
			for _, l := range strings.SplitAfter(string(from), "\n") {
				count[l]--
			}
			for _, l := range strings.SplitAfter(string(to), "\n") {
				count[l]++
			}
			removed, added := map[string]int{}, map[string]int{}
			for l, n := range count {
				switch {
				case n < 0:
					removed[l] = -n
				case n > 0:
					added[l] = n
				}
			}
			out[key] = [2]map[string]int{removed, added}
		}
		return out
	}
	ca, cb := changes(a), changes(b)
	keys := slices.Sorted(maps.Keys(ca))
	for k := range cb {
		if _, ok := ca[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		x, okA := ca[k]
		y, okB := cb[k]
		if !okA || !okB || !maps.Equal(x[0], y[0]) || !maps.Equal(x[1], y[1]) {
			return strings.TrimPrefix(k, " -> "), false
		}
	}
	return "", true
}

// sameBase reports whether two rollbacks replace the same files with the
// same content before them (their From sides); the first differing path.
func sameBase(a, b []patch.Pair) (string, bool) {
	base := func(ps []patch.Pair) map[string]string {
		out := map[string]string{}
		for _, p := range ps {
			if p.From != nil {
				out[p.From.Path] = string(p.From.Content)
			}
		}
		return out
	}
	ba, bb := base(a), base(b)
	for _, k := range slices.Sorted(maps.Keys(ba)) {
		if v, ok := bb[k]; !ok || v != ba[k] {
			return k, false
		}
	}
	for k := range bb {
		if _, ok := ba[k]; !ok {
			return k, false
		}
	}
	return "", true
}
