package opsrepo

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stagedeck/stagedeck/gitstate"
	"github.com/stagedeck/stagedeck/patch"
)

// maxLinkTarget bounds a symbolic link's stored target (a path, never
// big); maxKustomization a kustomization.
const (
	maxLinkTarget    = 4096
	maxKustomization = 1 << 20
)

var errTooBig = errors.New("too big")

// Links returns the symbolic links of commit h that point inside the
// repository: Argo CD renders an app through them. One walk of the whole
// tree per commit (names and modes only; a blob is read for a link
// alone), cached: a commit never changes.
func (r *Repo) Links(h plumbing.Hash) (*gitstate.Links, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.linksLocked(h)
}

// BoardLinks are Links of the head a board shows: LatestLinks returns
// them from then on (a rollback's unpushed commit never becomes them).
func (r *Repo) BoardLinks(h plumbing.Hash) (*gitstate.Links, error) {
	l, err := r.Links(h)
	if err == nil {
		r.latestLinks.Store(l)
	}
	return l, err
}

func (r *Repo) linksLocked(h plumbing.Hash) (*gitstate.Links, error) {
	if l, ok := r.links[h]; ok {
		return l, nil
	}
	w := newWalker(r, nil)
	defer w.close()
	c, err := w.commit(h)
	if err != nil {
		return nil, err
	}
	links, reads := map[string]string{}, map[string][]string{}
	if err := w.collectLinks(c.TreeHash, "", links, reads); err != nil {
		return nil, fmt.Errorf("symbolic links and kustomizations at %s: %w", Short(h.String()), err)
	}
	l := gitstate.NewLinks(links, reads)
	if r.links == nil || len(r.links) >= 64 {
		r.links = map[plumbing.Hash]*gitstate.Links{}
	}
	r.links[h] = l
	return l, nil
}

// LatestLinks are the links of the head the last board showed (nil
// before any): for placing watch events without waiting on the
// repository's lock behind a long walk.
func (r *Repo) LatestLinks() *gitstate.Links { return r.latestLinks.Load() }

// collectLinks adds every symbolic link under tree (at dir) to links, and
// what every kustomization reads outside its own directory to reads.
func (w *walker) collectLinks(tree plumbing.Hash, dir string, links map[string]string, reads map[string][]string) error {
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
		switch {
		case mode == "40000":
			if err := w.collectLinks(h, dir+name+"/", links, reads); err != nil {
				return err
			}
		case mode == "120000":
			target, err := w.object(h, plumbing.BlobObject, maxLinkTarget)
			switch {
			case errors.Is(err, errTooBig):
				reads[dir+name] = []string{""} // unread: it may point anywhere
				continue
			case err != nil:
				return err
			}
			links[dir+name] = string(target)
			if patch.IsKustomization(name) {
				// kustomize reads it from here, its references too: where
				// those lead is not worked out, so it may read anything.
				reads[dir+name] = []string{""}
			}
		case (mode == "100644" || mode == "100755") && readsOthers(name):
			content, err := w.object(h, plumbing.BlobObject, maxKustomization)
			if errors.Is(err, errTooBig) {
				reads[dir+name] = []string{""} // unread: it may read anything
				continue
			}
			if err != nil {
				return err
			}
			var refs []string
			switch {
			case strings.HasSuffix(name, "sonnet"): // jsonnet: not YAML
				refs = patch.DotDotRefs(dir+name, content)
			case !bytes.Contains(content, []byte("..")) && !patch.Disguised(content):
				// Only a reference with ".." leaves the file's directory
				// (escapes, tags and encodings may spell one).
			default:
				if !patch.IsKustomization(name) {
					// A chart dependency's repository: file://../common is a path.
					content = bytes.ReplaceAll(content, []byte("file://"), []byte(" "))
				}
				refs = patch.KustomizeReadsOutside(dir+name, content)
			}
			if len(refs) > 0 {
				reads[dir+name] = refs
			}
		}
	}
	return nil
}

// readsOthers reports whether a file of this name makes what renders it
// read other paths: a kustomization, a Helm chart's dependencies
// (file://), a jsonnet import.
func readsOthers(name string) bool {
	return patch.IsKustomization(name) || name == "Chart.yaml" || name == "requirements.yaml" ||
		strings.HasSuffix(name, ".jsonnet") || strings.HasSuffix(name, ".libsonnet")
}
