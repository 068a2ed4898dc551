package opsrepo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// packSet reads objects straight from mapped pack and idx files: a binary
// search in the idx, inflate, apply deltas. go-git decodes a whole idx and
// builds offset maps before its first read, which dominates a short walk;
// this reader does no work up front. Anything it cannot answer (loose
// objects, an unknown format) falls back to go-git.
type packSet struct {
	packs []*pack
	cache map[*pack]map[int64]cachedObj
	bytes int
	zr    io.ReadCloser
}

type pack struct {
	idx, data     []byte
	unmapI, unmap func()
	n             int
	fanout        [256]uint32
}

type cachedObj struct {
	typ  byte
	data []byte
}

// Object types in a pack.
const (
	objCommit   = 1
	objTree     = 2
	objBlob     = 3
	objOfsDelta = 6
	objRefDelta = 7
)

// maxObjectCache bounds the bytes of trees and commits kept between reads.
const maxObjectCache = 32 << 20

var errNotInPacks = errors.New("object not in packs")

// openPacks maps every pack of gitDir with a version-2 idx.
func openPacks(gitDir string) *packSet {
	ps := &packSet{cache: map[*pack]map[int64]cachedObj{}}
	idxs, _ := filepath.Glob(filepath.Join(gitDir, "objects", "pack", "*.idx"))
	for _, ip := range idxs {
		if p, err := openPack(ip); err == nil {
			ps.packs = append(ps.packs, p)
		}
	}
	return ps
}

func openPack(idxPath string) (*pack, error) {
	st, err := os.Stat(idxPath)
	if err != nil {
		return nil, err
	}
	idx, unmapI, err := mapFile(idxPath, st.Size())
	if err != nil {
		return nil, err
	}
	packPath := strings.TrimSuffix(idxPath, ".idx") + ".pack"
	pst, err := os.Stat(packPath)
	if err != nil {
		unmapI()
		return nil, err
	}
	data, unmap, err := mapFile(packPath, pst.Size())
	if err != nil {
		unmapI()
		return nil, err
	}
	p := &pack{idx: idx, data: data, unmapI: unmapI, unmap: unmap}
	if len(idx) < 8+256*4 || !bytes.Equal(idx[:4], []byte{0xff, 't', 'O', 'c'}) || binary.BigEndian.Uint32(idx[4:8]) != 2 ||
		len(data) < 12 || string(data[:4]) != "PACK" {
		p.close()
		return nil, errors.New("unsupported pack format")
	}
	for i := range p.fanout {
		p.fanout[i] = binary.BigEndian.Uint32(idx[8+4*i:])
	}
	p.n = int(p.fanout[255])
	if len(idx) < 8+256*4+p.n*(20+4+4) {
		p.close()
		return nil, errors.New("truncated idx")
	}
	return p, nil
}

func (p *pack) close() {
	if p.unmap != nil {
		p.unmap()
	}
	if p.unmapI != nil {
		p.unmapI()
	}
}

func (ps *packSet) close() {
	for _, p := range ps.packs {
		p.close()
	}
	ps.packs = nil
}

// offset finds h in the idx.
func (p *pack) offset(h plumbing.Hash) (int64, bool) {
	lo := 0
	if h[0] > 0 {
		lo = int(p.fanout[h[0]-1])
	}
	hi := int(p.fanout[h[0]])
	names := p.idx[8+256*4:]
	i := lo + sort.Search(hi-lo, func(i int) bool { return bytes.Compare(names[(lo+i)*20:(lo+i)*20+20], h[:]) >= 0 })
	if i >= hi || !bytes.Equal(names[i*20:i*20+20], h[:]) {
		return 0, false
	}
	offs := p.idx[8+256*4+p.n*24:]
	o := binary.BigEndian.Uint32(offs[i*4:])
	if o&0x80000000 == 0 {
		return int64(o), true
	}
	big := offs[p.n*4:]
	j := int(o & 0x7fffffff)
	if len(big) < j*8+8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(big[j*8:])), true
}

// read returns the type and content of h, deltas applied.
func (ps *packSet) read(h plumbing.Hash) (byte, []byte, error) {
	for _, p := range ps.packs {
		if off, ok := p.offset(h); ok {
			return ps.readAt(p, off, 0)
		}
	}
	return 0, nil, errNotInPacks
}

func (ps *packSet) readAt(p *pack, off int64, depth int) (byte, []byte, error) {
	if c, ok := ps.cache[p][off]; ok {
		return c.typ, c.data, nil
	}
	if depth > 100 || off < 12 || off >= int64(len(p.data)) {
		return 0, nil, errors.New("bad pack offset or delta chain")
	}
	buf := p.data[off:]
	typ := (buf[0] >> 4) & 7
	size := int(buf[0] & 15)
	shift, i := 4, 1
	for buf[i-1]&0x80 != 0 {
		if i >= len(buf) {
			return 0, nil, errors.New("truncated object header")
		}
		size |= int(buf[i]&0x7f) << shift
		shift += 7
		i++
	}
	var baseTyp byte
	var base []byte
	switch typ {
	case objOfsDelta:
		c := buf[i]
		i++
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			c = buf[i]
			i++
			rel = ((rel + 1) << 7) | int64(c&0x7f)
		}
		var err error
		if baseTyp, base, err = ps.readAt(p, off-rel, depth+1); err != nil {
			return 0, nil, err
		}
	case objRefDelta:
		var bh plumbing.Hash
		copy(bh[:], buf[i:i+20])
		i += 20
		var err error
		if baseTyp, base, err = ps.read(bh); err != nil {
			return 0, nil, err
		}
	case objCommit, objTree, objBlob, 4:
	default:
		return 0, nil, fmt.Errorf("unknown object type %d", typ)
	}
	raw, err := ps.inflate(buf[i:], size)
	if err != nil {
		return 0, nil, err
	}
	if base != nil {
		if raw, err = applyDelta(base, raw); err != nil {
			return 0, nil, err
		}
		typ = baseTyp
	}
	// Cache delta bases and trees: consecutive commits share them.
	if typ == objTree || typ == objCommit {
		if ps.bytes+len(raw) > maxObjectCache {
			clear(ps.cache)
			ps.bytes = 0
		}
		if ps.cache[p] == nil {
			ps.cache[p] = map[int64]cachedObj{}
		}
		ps.cache[p][off] = cachedObj{typ, raw}
		ps.bytes += len(raw)
	}
	return typ, raw, nil
}

func (ps *packSet) inflate(src []byte, size int) ([]byte, error) {
	var err error
	if ps.zr == nil {
		ps.zr, err = zlib.NewReader(bytes.NewReader(src))
	} else {
		err = ps.zr.(zlib.Resetter).Reset(bytes.NewReader(src), nil)
	}
	if err != nil {
		return nil, err
	}
	out := make([]byte, size)
	if _, err := io.ReadFull(ps.zr, out); err != nil {
		return nil, err
	}
	return out, nil
}

// applyDelta rebuilds an object from its base and a git delta.
func applyDelta(base, delta []byte) ([]byte, error) {
	varint := func() (int, error) {
		n, shift := 0, 0
		for {
			if len(delta) == 0 {
				return 0, errors.New("truncated delta")
			}
			b := delta[0]
			delta = delta[1:]
			n |= int(b&0x7f) << shift
			shift += 7
			if b&0x80 == 0 {
				return n, nil
			}
		}
	}
	srcSize, err := varint()
	if err != nil || srcSize != len(base) {
		return nil, errors.New("delta base size mismatch")
	}
	dstSize, err := varint()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, dstSize)
	for len(delta) > 0 {
		op := delta[0]
		delta = delta[1:]
		if op&0x80 != 0 {
			var off, n int
			for k := 0; k < 4; k++ {
				if op&(1<<k) != 0 {
					off |= int(delta[0]) << (8 * k)
					delta = delta[1:]
				}
			}
			for k := 0; k < 3; k++ {
				if op&(0x10<<k) != 0 {
					n |= int(delta[0]) << (8 * k)
					delta = delta[1:]
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > len(base) {
				return nil, errors.New("delta copy out of range")
			}
			out = append(out, base[off:off+n]...)
		} else if op != 0 {
			if int(op) > len(delta) {
				return nil, errors.New("delta insert out of range")
			}
			out = append(out, delta[:op]...)
			delta = delta[op:]
		} else {
			return nil, errors.New("delta opcode 0")
		}
	}
	if len(out) != dstSize {
		return nil, errors.New("delta result size mismatch")
	}
	return out, nil
}

// rawCommit is what a walk and the board need of a commit object.
type rawCommit struct {
	tree    plumbing.Hash
	parents []plumbing.Hash
	when    time.Time // committer time
	author  string
	email   string
	date    time.Time // author time
	subject string
}

func parseCommit(raw []byte) (rawCommit, error) {
	var c rawCommit
	for len(raw) > 0 {
		nl := bytes.IndexByte(raw, '\n')
		if nl < 0 {
			return c, errors.New("malformed commit")
		}
		line := raw[:nl]
		raw = raw[nl+1:]
		if len(line) == 0 {
			break // the message follows
		}
		key, val, _ := bytes.Cut(line, []byte{' '})
		switch string(key) {
		case "tree":
			c.tree = plumbing.NewHash(string(val))
		case "parent":
			c.parents = append(c.parents, plumbing.NewHash(string(val)))
		case "author":
			c.author, c.email, c.date = parseSig(val)
		case "committer":
			_, _, c.when = parseSig(val)
		}
	}
	subject, _, _ := bytes.Cut(raw, []byte{'\n'})
	c.subject = strings.TrimSpace(string(subject))
	return c, nil
}

// parseSig reads "Name <email> 1700000000 +0100".
func parseSig(b []byte) (string, string, time.Time) {
	lt, gt := bytes.LastIndexByte(b, '<'), bytes.LastIndexByte(b, '>')
	if lt < 0 || gt < lt {
		return string(b), "", time.Time{}
	}
	name := strings.TrimSpace(string(b[:lt]))
	email := string(b[lt+1 : gt])
	fields := strings.Fields(string(b[gt+1:]))
	var when time.Time
	if len(fields) >= 1 {
		if sec, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			when = time.Unix(sec, 0)
			if len(fields) == 2 && len(fields[1]) == 5 {
				h, _ := strconv.Atoi(fields[1][1:3])
				m, _ := strconv.Atoi(fields[1][3:5])
				offset := (h*60 + m) * 60
				if fields[1][0] == '-' {
					offset = -offset
				}
				when = when.In(time.FixedZone(fields[1], offset))
			}
		}
	}
	return name, email, when
}
