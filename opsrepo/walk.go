package opsrepo

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	commitgraph "github.com/go-git/go-git/v5/plumbing/format/commitgraph/v2"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// walker compares path subtree hashes between commits. It memoises commit
// objects' trees and (tree, name) lookups, so unchanged subtrees are never
// decoded twice and whole trees are never diffed.
type walker struct {
	r        *Repo
	paths    [][]string
	graph    commitgraph.Index // nil when the repository has no commit-graph
	packs    *packSet          // mapped packs; nil for in-memory repositories
	commits  map[plumbing.Hash]*node
	subs     map[plumbing.Hash][]plumbing.Hash // commit -> subtree hash per path
	entries  map[treeName]plumbing.Hash
	lastTree plumbing.Hash
	lastRaw  []byte
}

type treeName struct {
	tree plumbing.Hash
	name string
	dir  bool
}

func newWalker(r *Repo, paths []string) *walker {
	w := &walker{
		r:       r,
		commits: map[plumbing.Hash]*node{},
		subs:    map[plumbing.Hash][]plumbing.Hash{},
		entries: map[treeName]plumbing.Hash{},
	}
	for _, p := range paths {
		w.paths = append(w.paths, strings.Split(strings.Trim(p, "/"), "/"))
	}
	if r.gitDir != "" {
		// git gc writes a commit-graph: parents, tree and time of every
		// commit without inflating commit objects. Commits newer than the
		// graph fall back to the object store.
		if g, err := commitgraph.OpenChainOrFileIndex(packsInMemory{osfs.New(r.gitDir)}); err == nil {
			w.graph = g
		}
		w.packs = openPacks(r.gitDir)
	}
	return w
}

// close releases the commit-graph.
func (w *walker) close() {
	if w.graph != nil {
		_ = w.graph.Close()
	}
	if w.packs != nil {
		w.packs.close()
	}
}

// node is what a walk needs of a commit.
type node struct {
	Hash         plumbing.Hash
	TreeHash     plumbing.Hash
	ParentHashes []plumbing.Hash
	When         time.Time
}

func (w *walker) commit(h plumbing.Hash) (*node, error) {
	if c, ok := w.commits[h]; ok {
		return c, nil
	}
	if w.graph != nil {
		if i, err := w.graph.GetIndexByHash(h); err == nil {
			if cd, err := w.graph.GetCommitDataByIndex(i); err == nil {
				n := &node{Hash: h, TreeHash: cd.TreeHash, ParentHashes: cd.ParentHashes, When: cd.When}
				w.commits[h] = n
				return n, nil
			}
		}
	}
	if w.packs != nil {
		if typ, raw, err := w.packs.read(h); err == nil && typ == objCommit {
			if rc, err := parseCommit(raw); err == nil {
				n := &node{Hash: h, TreeHash: rc.tree, ParentHashes: rc.parents, When: rc.when}
				w.commits[h] = n
				return n, nil
			}
		}
	}
	c, err := object.GetCommit(w.r.repo.Storer, h)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRevision, h)
	}
	n := &node{Hash: h, TreeHash: c.TreeHash, ParentHashes: c.ParentHashes, When: c.Committer.When}
	w.commits[h] = n
	return n, nil
}

// info decodes the full commit for display.
func (w *walker) info(h plumbing.Hash) (Commit, error) {
	if w.packs != nil {
		if typ, raw, err := w.packs.read(h); err == nil && typ == objCommit {
			if rc, err := parseCommit(raw); err == nil {
				return Commit{SHA: h.String(), Author: rc.author, Email: rc.email, Date: rc.date, Subject: rc.subject}, nil
			}
		}
	}
	return w.r.commitInfo(h)
}

// child returns the hash of entry name in tree, or zero if absent. It scans
// the raw tree object instead of decoding every entry: a walk looks up one
// name in thousands of trees. Lookups below the root are memoised (unchanged
// subtrees repeat across commits); root trees are unique per commit, so
// only the last one read is kept, for the next path of the same commit.
//
// With dir set only a directory matches: a path that passes through a
// symbolic link (or a file) is absent there, as git log sees it.
func (w *walker) child(tree plumbing.Hash, name string, root, dir bool) (plumbing.Hash, error) {
	k := treeName{tree, name, dir}
	if !root {
		if h, ok := w.entries[k]; ok {
			return h, nil
		}
	}
	raw, err := w.rawTree(tree)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	found, err := findEntry(raw, name, dir)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("tree %s: %w", tree, err)
	}
	if !root {
		if len(w.entries) > 1<<16 {
			clear(w.entries)
		}
		w.entries[k] = found
	}
	return found, nil
}

// rawTree returns a tree object's content, from the mapped packs or go-git.
func (w *walker) rawTree(tree plumbing.Hash) ([]byte, error) {
	if tree == w.lastTree && w.lastRaw != nil {
		return w.lastRaw, nil
	}
	raw, err := w.object(tree, plumbing.TreeObject, -1)
	if err != nil {
		return nil, err
	}
	w.lastTree, w.lastRaw = tree, raw
	return raw, nil
}

// object reads an object's content from the mapped packs, or go-git's
// store; one bigger than limit (-1: any size) is errTooBig.
func (w *walker) object(h plumbing.Hash, typ plumbing.ObjectType, limit int) ([]byte, error) {
	if w.packs != nil {
		if t, b, err := w.packs.read(h); err == nil && t == byte(typ) {
			if limit >= 0 && len(b) > limit {
				return nil, fmt.Errorf("%s %s: %d bytes: %w", typ, Short(h.String()), len(b), errTooBig)
			}
			return b, nil
		}
	}
	obj, err := w.r.repo.Storer.EncodedObject(typ, h)
	if err != nil {
		return nil, err
	}
	if limit >= 0 && obj.Size() > int64(limit) {
		return nil, fmt.Errorf("%s %s: %d bytes: %w", typ, Short(h.String()), obj.Size(), errTooBig)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// findEntry scans a raw git tree ("<mode> <name>\x00<20-byte hash>"...) for
// name, skipping submodules (mode 160000); with dir, a directory only.
func findEntry(raw []byte, name string, dir bool) (plumbing.Hash, error) {
	for len(raw) > 0 {
		sp := bytes.IndexByte(raw, ' ')
		nul := bytes.IndexByte(raw, 0)
		if sp < 0 || nul < sp || len(raw) < nul+21 {
			return plumbing.ZeroHash, errors.New("malformed tree object")
		}
		if mode := string(raw[:sp]); string(raw[sp+1:nul]) == name && mode != "160000" && (!dir || mode == "40000") {
			var h plumbing.Hash
			copy(h[:], raw[nul+1:nul+21])
			return h, nil
		}
		raw = raw[nul+21:]
	}
	return plumbing.ZeroHash, nil
}

// subtrees returns, per path, the hash of the path's tree (or blob) in commit h.
func (w *walker) subtrees(h plumbing.Hash) ([]plumbing.Hash, error) {
	if s, ok := w.subs[h]; ok {
		return s, nil
	}
	c, err := w.commit(h)
	if err != nil {
		return nil, err
	}
	out := make([]plumbing.Hash, len(w.paths))
	for i, parts := range w.paths {
		cur := c.TreeHash
		for d, p := range parts {
			if cur, err = w.child(cur, p, d == 0, d < len(parts)-1); err != nil {
				return nil, err
			}
			if cur.IsZero() {
				break
			}
		}
		out[i] = cur
	}
	w.subs[h] = out
	return out, nil
}

// forget drops what the walk no longer needs of a popped commit: its
// children (popped before it, in date order) have already compared with it.
func (w *walker) forget(h plumbing.Hash) {
	delete(w.commits, h)
	delete(w.subs, h)
}

// pathSet is a bit per walked path.
type pathSet []uint64

func newPathSet(n int, all bool) pathSet {
	s := make(pathSet, (n+63)/64)
	if all {
		for i := 0; i < n; i++ {
			s.add(i)
		}
	}
	return s
}
func (s pathSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s pathSet) add(i int)      { s[i/64] |= 1 << (i % 64) }
func (s pathSet) merge(o pathSet) {
	for i := range s {
		s[i] |= o[i]
	}
}
func (s pathSet) empty() bool {
	for _, w := range s {
		if w != 0 {
			return false
		}
	}
	return true
}

// step applies git's default history simplification to commit c for the
// paths in live: changed[i] says c changed path i (its subtree differs from
// every parent's); parents[k] holds the paths whose history continues through
// parent k: only the first parent a merge is TREESAME to, else all of them.
func (w *walker) step(c *node, live pathSet) (changed []bool, parents []pathSet, err error) {
	mine, err := w.subtrees(c.Hash)
	if err != nil {
		return nil, nil, err
	}
	n := len(w.paths)
	changed = make([]bool, n)
	parents = make([]pathSet, len(c.ParentHashes))
	theirs := make([][]plumbing.Hash, len(c.ParentHashes))
	for k, ph := range c.ParentHashes {
		if theirs[k], err = w.subtrees(ph); err != nil {
			return nil, nil, err
		}
		parents[k] = newPathSet(n, false)
	}
	for i := 0; i < n; i++ {
		if !live.has(i) {
			continue
		}
		same := -1
		for k := range c.ParentHashes {
			if theirs[k][i] == mine[i] {
				same = k
				break
			}
		}
		switch {
		case same >= 0:
			parents[same].add(i)
		case len(c.ParentHashes) == 0:
			changed[i] = !mine[i].IsZero()
		default:
			changed[i] = true
			for k := range parents {
				parents[k].add(i)
			}
		}
	}
	return changed, parents, nil
}

// commitQueue orders commits newest first by committer date, as git log does.
type commitQueue []*node

func (q commitQueue) Len() int           { return len(q) }
func (q commitQueue) Less(i, j int) bool { return q[i].When.After(q[j].When) }
func (q commitQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)        { *q = append(*q, x.(*node)) }
func (q *commitQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

// LastChanges finds, in one walk from head, the last commit that changed each
// path, as `git log -1 -- path` would. A path that never existed is absent.
func (r *Repo) LastChanges(ctx context.Context, head plumbing.Hash, paths []string) (map[string]Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := newWalker(r, paths)
	defer w.close()
	out := make(map[string]Commit, len(paths))
	start, err := w.subtrees(head)
	if err != nil {
		return nil, err
	}
	remaining := newPathSet(len(paths), false)
	for i := range paths {
		if !start[i].IsZero() {
			remaining.add(i)
		}
	}
	live := map[plumbing.Hash]pathSet{head: remaining.clone()}
	c, err := w.commit(head)
	if err != nil {
		return nil, err
	}
	q := &commitQueue{c}
	for q.Len() > 0 && !remaining.empty() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := heap.Pop(q).(*node)
		mask := live[c.Hash]
		mask.intersect(remaining)
		changed, parents, err := w.step(c, mask)
		if err != nil {
			return nil, err
		}
		for i, p := range paths {
			if changed[i] {
				info, err := w.info(c.Hash)
				if err != nil {
					return nil, err
				}
				out[p] = info
				remaining.del(i)
			}
		}
		for k, ph := range c.ParentHashes {
			if err := w.enqueue(q, live, ph, parents[k]); err != nil {
				return nil, err
			}
		}
		w.forget(c.Hash)
	}
	return out, nil
}

// enqueue adds paths to ph's live set, queueing ph on first sight.
func (w *walker) enqueue(q *commitQueue, live map[plumbing.Hash]pathSet, ph plumbing.Hash, paths pathSet) error {
	if old, ok := live[ph]; ok {
		old.merge(paths)
		return nil
	}
	pc, err := w.commit(ph)
	if err != nil {
		return err
	}
	live[ph] = paths
	heap.Push(q, pc)
	return nil
}

func (s pathSet) clone() pathSet { return append(pathSet(nil), s...) }
func (s pathSet) del(i int)      { s[i/64] &^= 1 << (i % 64) }
func (s pathSet) intersect(o pathSet) {
	for i := range s {
		s[i] &= o[i]
	}
}

const (
	fromHead     = 1
	fromDeployed = 2
)

// Pending walks deployed..head once for all paths, as `git log deployed..head -- path` would.
func (r *Repo) Pending(ctx context.Context, head plumbing.Hash, deployed string, paths []string) (Pending, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pendingLocked(ctx, head, deployed, paths)
}

func (r *Repo) pendingLocked(ctx context.Context, head plumbing.Hash, deployed string, paths []string) (Pending, error) {
	dep, err := r.resolve(deployed)
	if err != nil {
		return Pending{}, err
	}
	res := Pending{Ancestor: true, Commits: map[string][]Commit{}}
	if dep == head {
		return res, nil
	}
	w := newWalker(r, paths)
	defer w.close()
	flags := map[plumbing.Hash]uint8{head: fromHead, dep: fromDeployed}
	live := map[plumbing.Hash]pathSet{head: newPathSet(len(paths), true), dep: newPathSet(len(paths), false)}
	hc, err := w.commit(head)
	if err != nil {
		return Pending{}, err
	}
	dc, err := w.commit(dep)
	if err != nil {
		return Pending{}, err
	}
	q := &commitQueue{}
	heap.Push(q, hc)
	heap.Push(q, dc)
	interesting := 1 // queued commits not reachable from deployed
	popped := map[plumbing.Hash]bool{}
	for q.Len() > 0 && interesting > 0 {
		if err := ctx.Err(); err != nil {
			return Pending{}, err
		}
		c := heap.Pop(q).(*node)
		popped[c.Hash] = true
		f := flags[c.Hash]
		mask := live[c.Hash]
		var parents []pathSet
		if f&fromDeployed == 0 {
			interesting--
			var changed []bool
			if changed, parents, err = w.step(c, mask); err != nil {
				return Pending{}, err
			}
			for i, p := range paths {
				if changed[i] {
					info, err := w.info(c.Hash)
					if err != nil {
						return Pending{}, err
					}
					res.Commits[p] = append(res.Commits[p], info)
				}
			}
		}
		for k, ph := range c.ParentHashes {
			old, queued := flags[ph]
			nf := old | f
			flags[ph] = nf
			through := newPathSet(len(paths), false)
			if parents != nil {
				through = parents[k]
			}
			if err := w.enqueue(q, live, ph, through); err != nil {
				return Pending{}, err
			}
			switch {
			case !queued:
				if nf&fromDeployed == 0 {
					interesting++
				}
			case old&fromDeployed == 0 && nf&fromDeployed != 0 && !popped[ph]:
				interesting--
			}
		}
		w.forget(c.Hash)
	}
	res.Ancestor = flags[dep]&fromHead != 0
	return res, nil
}

// History lists up to limit commits that changed path, newest first, as
// `git log -n limit -- path` does.
func (r *Repo) History(ctx context.Context, head plumbing.Hash, path string, limit int) ([]Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := newWalker(r, []string{path})
	defer w.close()
	c, err := w.commit(head)
	if err != nil {
		return nil, err
	}
	live := map[plumbing.Hash]pathSet{head: newPathSet(1, true)}
	q := &commitQueue{c}
	var out []Commit
	for q.Len() > 0 && len(out) < limit {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := heap.Pop(q).(*node)
		changed, parents, err := w.step(c, live[c.Hash])
		if err != nil {
			return nil, err
		}
		if changed[0] {
			info, err := w.info(c.Hash)
			if err != nil {
				return nil, err
			}
			out = append(out, info)
		}
		for k, ph := range c.ParentHashes {
			if parents[k].empty() {
				continue // history simplification: not followed for this path
			}
			if err := w.enqueue(q, live, ph, parents[k]); err != nil {
				return nil, err
			}
		}
		w.forget(c.Hash)
	}
	return out, nil
}
