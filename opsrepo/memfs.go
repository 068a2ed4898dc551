package opsrepo

import (
	"bytes"
	"strings"

	"github.com/go-git/go-billy/v5"
)

// packsInMemory serves packfiles and the commit-graph from memory (mapped,
// so pages load on demand). go-git
// reads them with many small preads; a walk over thousands of commits spends
// most of its time in those syscalls. Files over maxInMemory stay on disk.
type packsInMemory struct {
	billy.Filesystem
}

const maxInMemory = 64 << 20

func (fs packsInMemory) Open(name string) (billy.File, error) {
	f, err := fs.Filesystem.Open(name)
	if err != nil || !(strings.HasSuffix(name, ".pack") || strings.HasSuffix(name, "commit-graph")) {
		return f, err
	}
	st, err := fs.Filesystem.Stat(name)
	if err != nil || st.Size() > maxInMemory {
		return f, nil
	}
	data, unmap, err := mapFile(fs.Filesystem.Join(fs.Filesystem.Root(), name), st.Size())
	if err != nil {
		return f, nil
	}
	return &memFile{File: f, Reader: bytes.NewReader(data), unmap: unmap}, nil
}

// Chroot keeps the wrapper for sub-filesystems.
func (fs packsInMemory) Chroot(path string) (billy.Filesystem, error) {
	sub, err := fs.Filesystem.Chroot(path)
	if err != nil {
		return nil, err
	}
	return packsInMemory{sub}, nil
}

// memFile reads from memory; other calls go to the real file.
type memFile struct {
	billy.File
	*bytes.Reader
	unmap func()
}

func (f *memFile) Close() error {
	if f.unmap != nil {
		f.unmap()
		f.unmap = nil
	}
	return f.File.Close()
}

func (f *memFile) Read(p []byte) (int, error)              { return f.Reader.Read(p) }
func (f *memFile) ReadAt(p []byte, off int64) (int, error) { return f.Reader.ReadAt(p, off) }
func (f *memFile) Seek(off int64, whence int) (int64, error) {
	return f.Reader.Seek(off, whence)
}
