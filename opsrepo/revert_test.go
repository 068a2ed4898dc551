package opsrepo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/stagedeck/stagedeck/patch"
)

// remoteFixture is a bare "remote" with a history, a git CLI clone standing
// for CI or a colleague, and stagedeck's own cache clone of the remote.
type remoteFixture struct {
	bare, other string
	commits     map[string]string // subject -> sha
	repo        *Repo
}

func newRemoteFixture(t *testing.T) *remoteFixture {
	t.Helper()
	root := t.TempDir()
	f := &remoteFixture{bare: filepath.Join(root, "ops.git"), other: filepath.Join(root, "other"), commits: map[string]string{}}
	gitCLI(t, root, "init", "-q", "--bare", "-b", "main", f.bare)
	gitCLI(t, root, "clone", "-q", f.bare, f.other)
	gitCLI(t, f.other, "checkout", "-q", "-b", "main")
	step := func(subject string, files map[string]string) {
		for p, c := range files {
			if c == "" {
				gitCLI(t, f.other, "rm", "-q", p)
				continue
			}
			writeFile(t, f.other, p, c)
		}
		f.commits[subject] = commitAll(t, f.other, subject)
	}
	step("base", map[string]string{
		"prod/web/values.yaml": "image: web:1.0\nreplicas: 4\nenv: prod\nlog: info\ncpu: 1\nmemory: 1Gi\n",
		"prod/web/old.yaml":    "legacy: true\n",
		"tst/web/values.yaml":  "image: web:1.0\nreplicas: 1\n",
	})
	step("Bump web to 1.1 in tst and prod", map[string]string{
		"prod/web/values.yaml":  "image: web:1.1\nreplicas: 4\nenv: prod\nlog: info\ncpu: 1\nmemory: 1Gi\n",
		"tst/web/values.yaml":   "image: web:1.1\nreplicas: 1\n",
		"prod/web/feature.yaml": "flag: on\n",
		"prod/web/old.yaml":     "",
	})
	step("prod: more memory", map[string]string{
		"prod/web/values.yaml": "image: web:1.1\nreplicas: 4\nenv: prod\nlog: info\ncpu: 1\nmemory: 2Gi\n",
	})
	gitCLI(t, f.other, "push", "-q", "origin", "main")
	r, err := Open(context.Background(), Options{URL: "file://" + f.bare, Branch: "main", CacheDir: filepath.Join(root, "cache")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	f.repo = r
	return f
}

func (f *remoteFixture) remoteHead(t *testing.T) string {
	return gitCLI(t, f.bare, "rev-parse", "main")
}

func (f *remoteFixture) remoteFile(t *testing.T, path string) string {
	return gitCLI(t, f.bare, "show", "main:"+path)
}

// assertKept fails unless every commit the remote had is still in its history.
func (f *remoteFixture) assertKept(t *testing.T, old string) {
	t.Helper()
	cmd := fmt.Sprintf("merge-base --is-ancestor %s main", old)
	if out := gitCLIAllowFail(f.bare, strings.Fields(cmd)...); out != nil {
		t.Fatalf("the remote lost commit %s: %v", old[:7], out)
	}
}

var ann = Signature{Name: "Ann Owner", Email: "ann@example.com"}

func TestRevertOnlyTouchesTheStageAndLands(t *testing.T) {
	f := newRemoteFixture(t)
	before := f.remoteHead(t)
	rb := Rollback{Stage: "prod", Path: "prod", Revert: f.commits["Bump web to 1.1 in tst and prod"], Reason: "INC-42 checkout broken", Operator: ann}
	plan, err := f.repo.PrepareRollback(context.Background(), rb)
	if err != nil {
		t.Fatal(err)
	}
	preview := patch.Unified(plan.Pairs, 3)
	for _, want := range []string{"-image: web:1.1", "+image: web:1.0", "+legacy: true", "-flag: on"} {
		if !strings.Contains(preview, want) {
			t.Errorf("preview lacks %q:\n%s", want, preview)
		}
	}
	if strings.Contains(preview, "tst/") {
		t.Errorf("the revert touches another stage:\n%s", preview)
	}
	if f.remoteHead(t) != before {
		t.Fatal("preparing pushed something")
	}
	res, err := f.repo.Publish(context.Background(), plan, rb)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rebased || res.Attempts != 1 || f.remoteHead(t) != res.Commit.String() {
		t.Errorf("result %+v, remote at %s", res, f.remoteHead(t))
	}
	f.assertKept(t, before)
	// The later memory change survives: a line-level merge, not a file restore.
	if got := f.remoteFile(t, "prod/web/values.yaml"); got != "image: web:1.0\nreplicas: 4\nenv: prod\nlog: info\ncpu: 1\nmemory: 2Gi" {
		t.Errorf("prod values after revert:\n%s", got)
	}
	if got := f.remoteFile(t, "tst/web/values.yaml"); !strings.Contains(got, "web:1.1") {
		t.Error("the revert changed tst")
	}
	if got := f.remoteFile(t, "prod/web/old.yaml"); got != "legacy: true" {
		t.Errorf("deleted file not restored: %q", got)
	}
	if out := gitCLIAllowFail(f.bare, "cat-file", "-e", "main:prod/web/feature.yaml"); out == nil {
		t.Error("added file not removed")
	}
	msg := gitCLI(t, f.bare, "log", "-1", "--format=%B", "main")
	wantMsg := fmt.Sprintf("Revert \"Bump web to 1.1 in tst and prod\"\n\nThis reverts commit %s in stage prod (prod/).\n\nReason: INC-42 checkout broken\nOperator: Ann Owner <ann@example.com>", rb.Revert)
	if msg != wantMsg {
		t.Errorf("message:\n%s\nwant:\n%s", msg, wantMsg)
	}
	if trailers := gitCLI(t, f.bare, "log", "-1", "--format=%(trailers:key=Reason,valueonly)", "main"); trailers != "INC-42 checkout broken" {
		t.Errorf("git does not read the Reason trailer: %q", trailers)
	}
}

func TestRestoreStageToRevision(t *testing.T) {
	f := newRemoteFixture(t)
	before := f.remoteHead(t)
	rb := Rollback{Stage: "prod", Path: "prod", RestoreTo: f.commits["base"], Reason: "back to last good", Operator: ann}
	plan, err := f.repo.PrepareRollback(context.Background(), rb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.repo.Publish(context.Background(), plan, rb); err != nil {
		t.Fatal(err)
	}
	f.assertKept(t, before)
	if d := gitCLI(t, f.bare, "diff", f.commits["base"], "main", "--", "prod"); d != "" {
		t.Errorf("prod/ is not identical to base:\n%s", d)
	}
	if d := gitCLI(t, f.bare, "diff", before, "main", "--", "tst"); d != "" {
		t.Errorf("restore touched tst:\n%s", d)
	}
	if subj := gitCLI(t, f.bare, "log", "-1", "--format=%s", "main"); subj != "Restore prod to "+f.commits["base"][:7] {
		t.Errorf("subject %q", subj)
	}
	// Restoring again changes nothing and is refused.
	if _, err := f.repo.PrepareRollback(context.Background(), rb); !errors.Is(err, ErrNothingToDo) {
		t.Errorf("second restore: %v", err)
	}
}

func TestConcurrentPushIsFetchedAndReapplied(t *testing.T) {
	f := newRemoteFixture(t)
	rb := Rollback{Stage: "prod", Path: "prod", Revert: f.commits["Bump web to 1.1 in tst and prod"], Reason: "race", Operator: ann}
	plan, err := f.repo.PrepareRollback(context.Background(), rb)
	if err != nil {
		t.Fatal(err)
	}
	// A colleague pushes an unrelated change between preview and push.
	theirs := f.theirs(t, "tst: web 1.2", "tst/web/values.yaml", "image: web:1.2\nreplicas: 1\n")
	res, err := f.repo.Publish(context.Background(), plan, rb)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebased || res.Attempts != 2 {
		t.Errorf("result %+v: want a rebuilt second attempt", res)
	}
	f.assertKept(t, theirs)
	if parent := gitCLI(t, f.bare, "rev-parse", "main^"); parent != theirs {
		t.Errorf("revert not on top of the concurrent commit: parent %s", parent)
	}
	if got := f.remoteFile(t, "tst/web/values.yaml"); !strings.Contains(got, "web:1.2") {
		t.Error("the concurrent commit's change was lost")
	}
}

func TestConflictingRevertPushesNothing(t *testing.T) {
	f := newRemoteFixture(t)
	// Someone changes the very line the revert must undo.
	hotfix := f.theirs(t, "prod: hotfix image", "prod/web/values.yaml", "image: web:1.1-hotfix\nreplicas: 4\nenv: prod\nlog: info\ncpu: 1\nmemory: 2Gi\n")
	if err := f.repo.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := f.remoteHead(t)
	rb := Rollback{Stage: "prod", Path: "prod", Revert: f.commits["Bump web to 1.1 in tst and prod"], Reason: "x", Operator: ann}
	_, err := f.repo.PrepareRollback(context.Background(), rb)
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want a ConflictError", err)
	}
	if len(ce.Files) != 1 || ce.Files[0] != "prod/web/values.yaml" || !strings.Contains(err.Error(), hotfix[:7]) || !strings.Contains(err.Error(), "prod: hotfix image") {
		t.Errorf("conflict does not name the file and the commit in the way: %v", err)
	}
	if f.remoteHead(t) != before {
		t.Error("a conflicting revert pushed something")
	}
}

func TestConflictAfterRaceDropsTheCommit(t *testing.T) {
	f := newRemoteFixture(t)
	rb := Rollback{Stage: "prod", Path: "prod", Revert: f.commits["Bump web to 1.1 in tst and prod"], Reason: "x", Operator: ann}
	plan, err := f.repo.PrepareRollback(context.Background(), rb)
	if err != nil {
		t.Fatal(err)
	}
	theirs := f.theirs(t, "prod: hotfix image", "prod/web/values.yaml", "image: web:1.1-hotfix\nreplicas: 4\nenv: prod\nlog: info\ncpu: 1\nmemory: 2Gi\n")
	_, err = f.repo.Publish(context.Background(), plan, rb)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), theirs[:7]) {
		t.Fatalf("err = %v, want a conflict naming %s", err, theirs[:7])
	}
	if f.remoteHead(t) != theirs {
		t.Error("the remote changed after a refused rollback")
	}
	if h, _ := f.repo.Head(); h.String() != theirs {
		t.Errorf("the local branch kept the dropped rollback: %s", h)
	}
}

func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	f := newRemoteFixture(t)
	ro, err := Open(context.Background(), Options{URL: "file://" + f.bare, Branch: "main", CacheDir: t.TempDir(), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	head, _ := ro.Head()
	rb := Rollback{Stage: "prod", Path: "prod", RestoreTo: f.commits["base"], Operator: ann}
	if _, err := ro.PrepareRollback(context.Background(), rb); !errors.Is(err, ErrReadOnly) {
		t.Errorf("PrepareRollback: %v", err)
	}
	if _, err := ro.Publish(context.Background(), &Plan{Parent: head, Commit: head}, rb); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Publish: %v", err)
	}
	if _, err := ro.WriteCommit(head, nil, ann, "x"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("WriteCommit: %v", err)
	}
	if err := ro.SetBranch(head, plumbing.ZeroHash); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SetBranch: %v", err)
	}
}

func TestAuthErrorsSayWhatToDo(t *testing.T) {
	for _, err := range []error{transport.ErrAuthenticationRequired, transport.ErrAuthorizationFailed, errors.New("ssh: handshake failed: ssh: unable to authenticate")} {
		got := classifyPushError("git@github.com:acme/ops.git", err)
		if !errors.Is(got, ErrAuth) || !strings.Contains(got.Error(), "STAGEDECK_GIT_TOKEN") || !strings.Contains(got.Error(), "ssh-agent") {
			t.Errorf("%v -> %v", err, got)
		}
	}
	if got := classifyPushError("u", errors.New("knownhosts: key mismatch")); !strings.Contains(got.Error(), "known_hosts") {
		t.Errorf("host key: %v", got)
	}
	if got := classifyPushError("u", errors.New("dial tcp: connection refused")); !errors.Is(got, ErrUnreachable) {
		t.Errorf("unreachable: %v", got)
	}
	t.Setenv("STAGEDECK_SSH_KEY", filepath.Join(t.TempDir(), "missing"))
	if _, err := Auth("git@github.com:acme/ops.git"); err == nil || !strings.Contains(err.Error(), "ssh key") {
		t.Errorf("missing key file: %v", err)
	}
	t.Setenv("STAGEDECK_SSH_KEY", "")
	t.Setenv("SSH_AUTH_SOCK", "")
	if _, err := Auth("ssh://git@github.com/acme/ops.git"); err == nil || !strings.Contains(err.Error(), "STAGEDECK_SSH_KEY") {
		t.Errorf("no agent: %v", err)
	}
	t.Setenv("STAGEDECK_GIT_TOKEN", "tok")
	if a, err := Auth("https://github.com/acme/ops.git"); err != nil || a == nil {
		t.Errorf("token auth: %v %v", a, err)
	}
}

// gitCLIAllowFail runs git and returns its error instead of failing.
func gitCLIAllowFail(dir string, args ...string) error {
	cmd := execGit(dir, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

func TestCacheCloneOfANonDefaultBranch(t *testing.T) {
	f := newRemoteFixture(t)
	gitCLI(t, f.other, "checkout", "-q", "-b", "release")
	writeFile(t, f.other, "prod/web/values.yaml", "image: web:2.0\n")
	rel := commitAll(t, f.other, "release: web 2.0")
	gitCLI(t, f.other, "push", "-q", "origin", "release")
	r, err := Open(context.Background(), Options{URL: "file://" + f.bare, Branch: "release", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if h, err := r.Head(); err != nil || h.String() != rel {
		t.Errorf("Head of release = %s, %v; want %s", h, err, rel)
	}
}

// TestRollbackFromWhatIsRunning: web runs "Bump web to 1.1" (deployed);
// "prod: more memory" came after and was never deployed. Reverting the bump
// from what is running sets prod/web to its content before the bump, which
// also undoes the undeployed commit, named in the message; files outside the
// running app are reverted as usual.
func TestRollbackFromWhatIsRunning(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	bump := f.commits["Bump web to 1.1 in tst and prod"]
	rb := Rollback{Stage: "prod", Path: "prod", Revert: bump, Reason: "INC-1", Operator: ann,
		FromRunning: []RunningApp{{Path: "prod/web", Deployed: bump}}}
	plan, err := f.repo.PrepareRollback(ctx, rb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.repo.Publish(ctx, plan, rb); err != nil {
		t.Fatal(err)
	}
	if got, want := f.remoteFile(t, "prod/web/values.yaml"), "image: web:1.0\nreplicas: 4\nenv: prod\nlog: info\ncpu: 1\nmemory: 1Gi"; got != want {
		t.Errorf("prod/web/values.yaml = %q, want the content before the bump (memory 1Gi undone too)", got)
	}
	if got := f.remoteFile(t, "prod/web/old.yaml"); got != "legacy: true" {
		t.Errorf("old.yaml not restored: %q", got)
	}
	if out := gitCLIAllowFail(f.bare, "show", "main:prod/web/feature.yaml"); out == nil {
		t.Error("feature.yaml added by the bump is still there")
	}
	msg := gitCLI(t, f.bare, "log", "-1", "--format=%B")
	if !strings.Contains(msg, "prod/web/ as deployed at "+bump[:7]) || !strings.Contains(msg, `also undoes `+f.commits["prod: more memory"][:7]+` "prod: more memory"`) {
		t.Errorf("message does not name what runs and what it undid:\n%s", msg)
	}
	if got := f.remoteFile(t, "tst/web/values.yaml"); got != "image: web:1.1\nreplicas: 1" {
		t.Errorf("tst changed: %q", got)
	}
}

// TestRebuiltRollbackIsCheckedAgain: the owner previews a restore that
// changes only prod/web; meanwhile someone adds prod/api/x.yaml; the restore
// rebuilt on their head would delete it, and the guard refuses the push.
func TestRebuiltRollbackIsCheckedAgain(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	rb := Rollback{Stage: "prod", Path: "prod", RestoreTo: f.commits["base"], Reason: "INC-3", Operator: ann}
	plan, err := f.repo.PrepareRollback(ctx, rb)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plan.Paths() {
		if strings.HasPrefix(p, "prod/api/") {
			t.Fatalf("the preview already changes %s", p)
		}
	}
	writeFile(t, f.other, "prod/api/x.yaml", "a: 1\n")
	commitAll(t, f.other, "prod: add api")
	gitCLI(t, f.other, "push", "-q", "origin", "main")
	theirs := f.remoteHead(t)
	rb.Allow = func(paths []string) error {
		for _, p := range paths {
			if strings.HasPrefix(p, "prod/api/") {
				return fmt.Errorf("changes %s, not confirmed", p)
			}
		}
		return nil
	}
	_, err = f.repo.Publish(ctx, plan, rb)
	if !errors.Is(err, ErrPushRejected) || !strings.Contains(err.Error(), "prod/api/x.yaml") {
		t.Fatalf("Publish = %v, want a refusal naming prod/api/x.yaml", err)
	}
	if f.remoteHead(t) != theirs {
		t.Fatal("the rebuilt rollback was pushed")
	}
}

// TestRebuiltRestoreRefusesAnUnreviewedChange: a restore prepared, then a
// colleague pushes to the stage; rebuilt on their head the restore would
// undo their change too (another file, or a line moved within one of its
// own files), which nobody reviewed: refused, nothing pushed. A revert
// rebuilt over a change to another file is the same change and goes
// (TestConcurrentPushIsFetchedAndReapplied).
func TestRebuiltRestoreRefusesAnUnreviewedChange(t *testing.T) {
	for _, tc := range []struct{ name, file, content string }{
		{"another file of the stage", "prod/web/feature.yaml", "flag: on\nrollout: 50\n"},
		{"a line moved in a file it restores", "prod/web/values.yaml", "replicas: 4\nimage: web:1.1\nenv: prod\nlog: info\ncpu: 1\nmemory: 2Gi\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRemoteFixture(t)
			rb := Rollback{Stage: "prod", Path: "prod", RestoreTo: f.commits["base"], Reason: "INC-9", Operator: ann}
			plan, err := f.repo.PrepareRollback(context.Background(), rb)
			if err != nil {
				t.Fatal(err)
			}
			theirs := f.theirs(t, "prod: their change", tc.file, tc.content)
			_, err = f.repo.Publish(context.Background(), plan, rb)
			if !errors.Is(err, ErrPushRejected) || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), "review it again") {
				t.Fatalf("err = %v, want refused naming %s", err, tc.file)
			}
			if head := f.remoteHead(t); head != theirs {
				t.Errorf("something was pushed: remote at %s, want their %s", head, theirs)
			}
		})
	}
}

// theirs is a colleague's commit of path, pushed to the remote; its sha.
func (f *remoteFixture) theirs(t *testing.T, subject, path, content string) string {
	t.Helper()
	writeFile(t, f.other, path, content)
	sha := commitAll(t, f.other, subject)
	gitCLI(t, f.other, "push", "-q", "origin", "main")
	return sha
}
