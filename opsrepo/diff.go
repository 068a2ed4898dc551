package opsrepo

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/stagedeck/stagedeck/patch"
)

// Changes returns the files under dir that differ between commits from and
// to, renames detected, as pairs for patch.Unified. A zero from diffs
// against nothing (everything added).
func (r *Repo) Changes(ctx context.Context, from, to plumbing.Hash, dir string) ([]patch.Pair, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, err := r.subtree(from, dir)
	if err != nil {
		return nil, err
	}
	b, err := r.subtree(to, dir)
	if err != nil {
		return nil, err
	}
	var pairs []patch.Pair
	if a == nil && b == nil {
		// A file, not a directory (what an app reads through a link).
		pairs, err = r.fileChange(from, to, strings.Trim(dir, "/"))
	} else {
		pairs, err = r.treeChanges(ctx, a, b, dirPrefix(dir), dirPrefix(dir), true)
	}
	if err != nil {
		return nil, err
	}
	r.markSecretRefs(pairs, from, "", to, "")
	return pairs, nil
}

// fileChange is the change to the file at path between two commits: none
// when it is the same, or absent from both.
func (r *Repo) fileChange(from, to plumbing.Hash, path string) ([]patch.Pair, error) {
	var p patch.Pair
	for _, side := range []struct {
		h   plumbing.Hash
		out **patch.File
	}{{from, &p.From}, {to, &p.To}} {
		if side.h.IsZero() {
			continue
		}
		b, mode, ok, err := r.fileAt(side.h, path)
		if err != nil {
			return nil, err
		}
		if ok {
			*side.out = &patch.File{Path: path, Content: b, Mode: uint32(mode)}
		}
	}
	if p.From == nil && p.To == nil || p.From != nil && p.To != nil && p.From.Mode == p.To.Mode && bytes.Equal(p.From.Content, p.To.Content) {
		return nil, nil
	}
	return []patch.Pair{p}, nil
}

// CommitChanges is what one commit changed under dir (against its first parent).
func (r *Repo) CommitChanges(ctx context.Context, commit plumbing.Hash, dir string) ([]patch.Pair, error) {
	r.mu.Lock()
	c, err := r.repo.CommitObject(commit)
	r.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRevision, commit)
	}
	var parent plumbing.Hash
	if len(c.ParentHashes) > 0 {
		parent = c.ParentHashes[0]
	}
	return r.Changes(ctx, parent, commit, dir)
}

// CompareDirs diffs two directories of one commit, files matched by their
// path relative to each directory: what making dirB look like dirA changes.
// Paths in the pairs are relative.
func (r *Repo) CompareDirs(ctx context.Context, commit plumbing.Hash, dirA, dirB string) ([]patch.Pair, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, err := r.subtree(commit, dirA)
	if err != nil {
		return nil, err
	}
	b, err := r.subtree(commit, dirB)
	if err != nil {
		return nil, err
	}
	pairs, err := r.treeChanges(ctx, b, a, "", "", false)
	if err != nil {
		return nil, err
	}
	r.markSecretRefs(pairs, commit, dirPrefix(dirB), commit, dirPrefix(dirA))
	return pairs, nil
}

// markSecretRefs marks the files that any kustomization of the repository
// (at that side's commit) names as secret material: a rotated env file or
// key is secret even when its kustomization is not in the diff, and a
// kustomization may name a file outside its own directory (../shared/tls.key,
// with kustomize's load restrictor off, as Argo CD allows). prefix turns a
// pair's relative path into a repository path.
// The caller holds r.mu.
func (r *Repo) markSecretRefs(pairs []patch.Pair, from plumbing.Hash, fromPrefix string, to plumbing.Hash, toPrefix string) {
	mark := func(f *patch.File, h plumbing.Hash, prefix string) {
		if f == nil || h.IsZero() {
			return
		}
		refs, ok := r.secretRefs[h]
		if !ok {
			var err error
			if refs, err = r.secretRefsAt(h); err != nil {
				// Redaction fails closed: what cannot be checked is hidden
				// (and checked again next time).
				f.Secret = max(f.Secret, patch.SecretFile)
				return
			}
			if r.secretRefs == nil || len(r.secretRefs) >= 256 {
				r.secretRefs = map[plumbing.Hash]map[string]patch.SecretRef{}
			}
			r.secretRefs[h] = refs
		}
		if kind := refs[path.Clean(prefix+f.Path)]; kind > f.Secret {
			f.Secret = kind
		}
	}
	for _, p := range pairs {
		mark(p.From, from, fromPrefix)
		mark(p.To, to, toPrefix)
	}
}

// secretRefsAt reads every kustomization in commit h (the walk reads
// names only; a blob is read for a kustomization alone) and returns the
// files they name as secret material, by repository path; an error when
// the tree or a kustomization cannot be read.
func (r *Repo) secretRefsAt(h plumbing.Hash) (map[string]patch.SecretRef, error) {
	out := map[string]patch.SecretRef{}
	t, err := r.subtree(h, "")
	if err != nil || t == nil {
		return nil, fmt.Errorf("secret references at %s: %w", h, cmp.Or(err, ErrUnknownRevision))
	}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch path.Base(name) {
		case "kustomization.yaml", "kustomization.yml", "Kustomization":
		default:
			continue
		}
		if !e.Mode.IsFile() {
			continue
		}
		b, err := r.repo.BlobObject(e.Hash)
		if err != nil {
			return nil, err
		}
		rd, err := b.Reader()
		if err != nil {
			return nil, err
		}
		content, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			return nil, err
		}
		for ref, kind := range patch.SecretRefs(name, content) {
			out[ref] = max(out[ref], kind)
		}
	}
}

// dirPrefix turns dir into the prefix of the repository paths under it:
// "tst/" for "/tst/", "" for the repository's root.
func dirPrefix(dir string) string {
	if dir = strings.Trim(dir, "/"); dir == "" || dir == "." {
		return ""
	}
	return dir + "/"
}

// subtree returns the tree at dir in commit h; nil when h is zero or dir absent.
func (r *Repo) subtree(h plumbing.Hash, dir string) (*object.Tree, error) {
	if h.IsZero() {
		return nil, nil
	}
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRevision, h)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, err
	}
	dir = strings.Trim(dir, "/")
	if dir == "" || dir == "." {
		return t, nil
	}
	sub, err := t.Tree(dir)
	if err != nil {
		return nil, nil // absent on this side: everything added or removed
	}
	return sub, nil
}

func (r *Repo) treeChanges(ctx context.Context, a, b *object.Tree, prefixA, prefixB string, renames bool) ([]patch.Pair, error) {
	opts := *object.DefaultDiffTreeOptions // rename score 60, as git
	opts.DetectRenames = renames
	changes, err := object.DiffTreeWithOptions(ctx, a, b, &opts)
	if err != nil {
		return nil, err
	}
	out := make([]patch.Pair, 0, len(changes))
	for _, ch := range changes {
		from, to, err := ch.Files()
		if err != nil {
			return nil, err
		}
		var p patch.Pair
		if from != nil {
			if p.From, err = fileOf(prefixA+ch.From.Name, from); err != nil {
				return nil, err
			}
		}
		if to != nil {
			if p.To, err = fileOf(prefixB+ch.To.Name, to); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func fileOf(path string, f *object.File) (*patch.File, error) {
	rd, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	return &patch.File{Path: path, Content: b, Mode: uint32(f.Mode)}, nil
}
