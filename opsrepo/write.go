package opsrepo

import (
	"errors"
	"fmt"
	"os/exec"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
	"github.com/go-git/go-git/v5/storage"
)

func init() {
	// go-git's file:// transport runs git-upload-pack; without a git
	// installation use its in-process server so local remotes still work.
	if _, err := exec.LookPath("git"); err != nil {
		client.InstallProtocol("file", server.DefaultServer)
	}
}

// FileChange writes Content to Path, deletes Path when Delete is set, or
// makes directory Path the tree Subtree when that is set. Mode is the
// file's mode; 0 keeps the mode the file has (a new file is regular).
type FileChange struct {
	Path    string
	Content []byte
	Delete  bool
	Subtree plumbing.Hash
	Mode    filemode.FileMode
}

// InitBare creates a bare repository with no commits, for sandboxes and tests.
func InitBare(dir, branch string) (*Repo, error) {
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
	})
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	return &Repo{opts: Options{URL: dir, Branch: branch}, dir: dir, local: true, repo: repo}, nil
}

// WriteCommit stores a commit on top of parent (zero = a root commit) with
// the changes applied to parent's tree. It moves no reference.
func (r *Repo) WriteCommit(parent plumbing.Hash, changes []FileChange, author Signature, message string) (plumbing.Hash, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writeCommit(parent, changes, author, message)
}

func (r *Repo) writeCommit(parent plumbing.Hash, changes []FileChange, author Signature, message string) (plumbing.Hash, error) {
	if r.opts.ReadOnly {
		return plumbing.ZeroHash, ErrReadOnly
	}
	var base plumbing.Hash
	var parents []plumbing.Hash
	if !parent.IsZero() {
		pc, err := r.repo.CommitObject(parent)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%w: %s", ErrUnknownRevision, parent)
		}
		base, parents = pc.TreeHash, []plumbing.Hash{parent}
	}
	tree, err := r.applyChanges(base, changes)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	sig := object.Signature{Name: author.Name, Email: author.Email, When: author.When}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree, ParentHashes: parents}
	obj := r.repo.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.repo.Storer.SetEncodedObject(obj)
}

// applyChanges returns the hash of tree base with changes applied.
func (r *Repo) applyChanges(base plumbing.Hash, changes []FileChange) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if !base.IsZero() {
		t, err := object.GetTree(r.repo.Storer, base)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	sub := map[string][]FileChange{}
	for _, ch := range changes {
		p := strings.Trim(path.Clean("/"+ch.Path), "/")
		if p == "" {
			return plumbing.ZeroHash, fmt.Errorf("invalid path %q", ch.Path)
		}
		head, rest, nested := strings.Cut(p, "/")
		if nested {
			ch.Path = rest
			sub[head] = append(sub[head], ch)
			continue
		}
		if ch.Delete {
			delete(entries, head)
			continue
		}
		if !ch.Subtree.IsZero() {
			entries[head] = object.TreeEntry{Name: head, Mode: filemode.Dir, Hash: ch.Subtree}
			continue
		}
		h, err := r.writeBlob(ch.Content)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		mode := ch.Mode
		if old, ok := entries[head]; mode == 0 && ok && (old.Mode == filemode.Executable || old.Mode == filemode.Symlink) {
			mode = old.Mode
		}
		if mode == 0 || !mode.IsFile() {
			mode = filemode.Regular
		}
		entries[head] = object.TreeEntry{Name: head, Mode: mode, Hash: h}
	}
	for dir, chs := range sub {
		var childBase plumbing.Hash
		if e, ok := entries[dir]; ok && e.Mode == filemode.Dir {
			childBase = e.Hash
		}
		h, err := r.applyChanges(childBase, chs)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if h.IsZero() {
			delete(entries, dir)
		} else {
			entries[dir] = object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: h}
		}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil // git has no empty subtrees
	}
	return r.writeTree(entries)
}

func (r *Repo) writeTree(entries map[string]object.TreeEntry) (plumbing.Hash, error) {
	t := &object.Tree{}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	// git orders entries as if directories had a trailing slash.
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(t.Entries, func(i, j int) bool { return key(t.Entries[i]) < key(t.Entries[j]) })
	obj := r.repo.Storer.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.repo.Storer.SetEncodedObject(obj)
}

func (r *Repo) writeBlob(b []byte) (plumbing.Hash, error) {
	obj := r.repo.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(b)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(b); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.repo.Storer.SetEncodedObject(obj)
}

// ErrBranchMoved is returned by SetBranch when the branch is no longer at the expected commit.
var ErrBranchMoved = errors.New("branch moved")

// SetBranch moves the local branch from old (zero = must not exist) to new,
// atomically with respect to other writers of this repository.
func (r *Repo) SetBranch(old, new plumbing.Hash) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.setBranchLocked(old, new)
}

func (r *Repo) setBranchLocked(old, new plumbing.Hash) error {
	if r.opts.ReadOnly {
		return ErrReadOnly
	}
	name := plumbing.NewBranchReferenceName(r.opts.Branch)
	ref := plumbing.NewHashReference(name, new)
	if old.IsZero() {
		if _, err := r.repo.Reference(name, false); err == nil {
			return fmt.Errorf("%w: %s already exists", ErrBranchMoved, name)
		}
		return r.repo.Storer.SetReference(ref)
	}
	err := r.repo.Storer.CheckAndSetReference(ref, plumbing.NewHashReference(name, old))
	if errors.Is(err, storage.ErrReferenceHasChanged) {
		return fmt.Errorf("%w: %s is no longer at %s", ErrBranchMoved, name, Short(old.String()))
	}
	return err
}

// PathChanged reports whether path differs between commits from and to.
func (r *Repo) PathChanged(from, to plumbing.Hash, p string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := newWalker(r, []string{p})
	defer w.close()
	a, err := w.subtrees(from)
	if err != nil {
		return false, err
	}
	b, err := w.subtrees(to)
	if err != nil {
		return false, err
	}
	return a[0] != b[0], nil
}
