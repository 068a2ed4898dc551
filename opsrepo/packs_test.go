package opsrepo

import (
	"bytes"
	"io"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestPackReaderMatchesGoGit reads every object of a packed repository with
// deltas through the mapped reader and compares it with go-git's.
func TestPackReaderMatchesGoGit(t *testing.T) {
	dir := t.TempDir()
	genRepo(t, dir, 300, 3, 6, true, 5)
	gitCLI(t, dir, "repack", "-adf", "--depth=50", "--window=50")
	r := openLocal(t, dir)
	ps := openPacks(r.gitDir)
	defer ps.close()
	if len(ps.packs) == 0 {
		t.Fatal("no pack mapped")
	}
	iter, err := r.repo.Storer.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = iter.ForEach(func(o plumbing.EncodedObject) error {
		rd, _ := o.Reader()
		want, _ := io.ReadAll(rd)
		rd.Close()
		typ, got, err := ps.read(o.Hash())
		if err == errNotInPacks {
			return nil // a loose object: go-git serves those
		}
		if err != nil {
			t.Fatalf("%s: %v", o.Hash(), err)
		}
		if int(typ) != int(o.Type()) || !bytes.Equal(got, want) {
			t.Fatalf("%s (%s): content differs", o.Hash(), o.Type())
		}
		if o.Type() == plumbing.CommitObject {
			rc, err := parseCommit(got)
			c, _ := object.GetCommit(r.repo.Storer, o.Hash())
			if err != nil || rc.tree != c.TreeHash || len(rc.parents) != len(c.ParentHashes) || !rc.when.Equal(c.Committer.When) ||
				rc.author != c.Author.Name || !rc.date.Equal(c.Author.When) {
				t.Fatalf("commit %s parsed as %+v", o.Hash(), rc)
			}
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 300 {
		t.Errorf("only %d objects read", n)
	}
	if _, _, err := ps.read(plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")); err != errNotInPacks {
		t.Errorf("missing object: %v", err)
	}
}
