package opsrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stagedeck/stagedeck/gitstate"
)

// maxLinkTarget bounds a symbolic link's stored target (a path, never big).
const maxLinkTarget = 4096

// Links returns the symbolic links of commit h that point inside the
// repository: Argo CD renders an app through them. One walk of the whole
// tree per commit (names and modes only; a blob is read for a link
// alone), cached: a commit never changes.
func (r *Repo) Links(h plumbing.Hash) (*gitstate.Links, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.linksLocked(h)
}

func (r *Repo) linksLocked(h plumbing.Hash) (*gitstate.Links, error) {
	if l, ok := r.links[h]; ok {
		r.latestLinks.Store(l)
		return l, nil
	}
	w := newWalker(r, nil)
	defer w.close()
	c, err := w.commit(h)
	if err != nil {
		return nil, err
	}
	raw := map[string]string{}
	if err := w.collectLinks(c.TreeHash, "", raw); err != nil {
		return nil, fmt.Errorf("symbolic links at %s: %w", Short(h.String()), err)
	}
	l := gitstate.NewLinks(raw)
	if r.links == nil || len(r.links) >= 64 {
		r.links = map[plumbing.Hash]*gitstate.Links{}
	}
	r.links[h] = l
	r.latestLinks.Store(l)
	return l, nil
}

// LatestLinks are the links of the commit last read by Links (nil before
// any): for placing watch events without waiting on the repository's lock
// behind a long walk.
func (r *Repo) LatestLinks() *gitstate.Links { return r.latestLinks.Load() }

// collectLinks adds every symbolic link under tree (at dir) to out.
func (w *walker) collectLinks(tree plumbing.Hash, dir string, out map[string]string) error {
	raw, err := w.rawTree(tree)
	if err != nil {
		return err
	}
	for len(raw) > 0 {
		sp := bytes.IndexByte(raw, ' ')
		nul := bytes.IndexByte(raw, 0)
		if sp < 0 || nul < sp || len(raw) < nul+21 {
			return errors.New("malformed tree object")
		}
		mode, name := string(raw[:sp]), string(raw[sp+1:nul])
		var h plumbing.Hash
		copy(h[:], raw[nul+1:nul+21])
		raw = raw[nul+21:]
		switch mode {
		case "40000":
			if err := w.collectLinks(h, dir+name+"/", out); err != nil {
				return err
			}
		case "120000":
			target, err := w.blob(h)
			if err != nil {
				return err
			}
			out[dir+name] = string(target)
		}
	}
	return nil
}

// blob reads a small blob (a link's target), from the mapped packs or go-git.
func (w *walker) blob(h plumbing.Hash) ([]byte, error) {
	if w.packs != nil {
		if typ, b, err := w.packs.read(h); err == nil && typ == objBlob {
			return b, nil
		}
	}
	obj, err := w.r.repo.Storer.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, err
	}
	if obj.Size() > maxLinkTarget {
		return nil, fmt.Errorf("link target %s: %d bytes", Short(h.String()), obj.Size())
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}
