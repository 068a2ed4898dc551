package demo

import (
	"context"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stagedeck/stagedeck/opsrepo"
)

// gitAdapter lets the fake Argo CD read the sandbox's ops remote, as Argo
// CD's repo-server would.
type gitAdapter struct {
	ops   *opsrepo.Repo
	state *layout
}

func (g gitAdapter) Resolve(rev string) (string, error) {
	if rev == "" || rev == "HEAD" || rev == g.ops.Branch() {
		h, err := g.ops.Head()
		return h.String(), err
	}
	h, err := g.ops.Resolve(rev)
	return h.String(), err
}

func (g gitAdapter) Changed(from, to, path string) (bool, error) {
	f, err := g.ops.Resolve(from)
	if err != nil {
		return false, err
	}
	t, err := g.ops.Resolve(to)
	if err != nil {
		return false, err
	}
	return g.ops.PathChanged(f, t, path)
}

func (g gitAdapter) Metadata(sha string) (string, time.Time, string, error) {
	h, err := g.ops.Resolve(sha)
	if err != nil {
		return "", time.Time{}, "", err
	}
	c, err := g.ops.CommitInfo(h)
	if err != nil {
		return "", time.Time{}, "", err
	}
	return c.Author + " <" + c.Email + ">", c.Date, c.Subject, nil
}

// Images is the image list Argo CD's summary would show for path at sha.
func (g gitAdapter) Images(sha, path string) []string {
	return g.state.images(strings.TrimSpace(sha), path)
}

// Files lists the files under dir at sha, relative to dir.
func (g gitAdapter) Files(sha, dir string) (map[string][]byte, error) {
	h, err := g.ops.Resolve(sha)
	if err != nil {
		return nil, err
	}
	pairs, err := g.ops.Changes(context.Background(), plumbing.ZeroHash, h, dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(pairs))
	for _, p := range pairs {
		if p.To != nil {
			out[strings.TrimPrefix(p.To.Path, strings.Trim(dir, "/")+"/")] = p.To.Content
		}
	}
	return out, nil
}
