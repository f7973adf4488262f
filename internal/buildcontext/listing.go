package buildcontext

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"
)

// Listing is what a digest covered: each entry's path (slash-separated,
// relative to the tree's root) with a short hash of what the digest takes
// from it (its type, executable bit, content or link target), in the
// order of comparePaths, where a directory's contents follow it. Two listings of one tree tell which paths changed;
// a Summary of a listing tells it later, in little space.
type Listing []Listed

// Listed is one entry of a Listing.
type Listed struct {
	Path string
	Sum  uint64
}

// Tree is a digest with the listing it was made from.
type Tree struct {
	Digest  string
	Listing Listing
}

func listingOf(entries []*entry) Listing {
	l := make(Listing, len(entries))
	for i, e := range entries {
		l[i] = Listed{Path: e.path, Sum: entrySum(e)}
	}
	slices.SortFunc(l, func(a, b Listed) int { return comparePaths(a.Path, b.Path) })
	return l
}

func entrySum(e *entry) uint64 {
	h := fnv.New64a()
	h.Write([]byte(e.kind))
	h.Write([]byte{0})
	if e.content {
		h.Write(e.sum[:])
	} else {
		h.Write([]byte(e.link))
	}
	return h.Sum64()
}

// Prefixed is l with prefix before every path, e.g. "name:" for one of
// several trees digested together.
func (l Listing) Prefixed(prefix string) Listing {
	out := make(Listing, len(l))
	for i, e := range l {
		out[i] = Listed{Path: prefix + e.Path, Sum: e.Sum}
	}
	return out
}

// Merge is the listings as one.
func Merge(listings ...Listing) Listing {
	out := slices.Concat(listings...)
	slices.SortFunc(out, func(a, b Listed) int { return comparePaths(a.Path, b.Path) })
	return out
}

// comparePaths orders paths by component, as a walk visits them: "a",
// "a/b", "a.txt" (byte order would put "a.txt" between "a" and "a/b").
func comparePaths(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x == '/' {
			return -1
		}
		if y == '/' {
			return 1
		}
		return int(x) - int(y)
	}
	return len(a) - len(b)
}

// A summary holds nodes: an entry (its path and 4 bytes of its hash) or,
// where the entries do not fit, a subtree (a directory's path and 8 bytes
// of a hash of it and everything under it). It is flate-compressed; the
// paths are front-coded, so sorted paths cost little.
const summaryVersion = 1

type summaryNode struct {
	path    string
	subtree bool
	hash    uint64
}

// Summary records l in at most budget bytes: every entry when they fit,
// else every entry down to the deepest level that fits, with each
// directory at that level recorded as a subtree.
func (l Listing) Summary(budget int) []byte {
	for depth := l.maxDepth(); depth >= 0; depth-- {
		nodes := l.nodes(depth)
		// Hashes do not compress: a level with too many nodes cannot fit.
		if len(nodes)*4 > budget {
			continue
		}
		if raw := encodeNodes(nodes); len(raw) <= budget {
			return raw
		}
	}
	return encodeNodes([]summaryNode{{path: "", subtree: true, hash: subtreeHash(l, "")}})
}

func (l Listing) maxDepth() int {
	depth := 0
	for _, e := range l {
		depth = max(depth, strings.Count(e.Path, "/"))
	}
	return depth
}

// nodes are l's entries down to depth (0: the top level), each directory at
// depth that has contents being one subtree node.
func (l Listing) nodes(depth int) []summaryNode {
	var nodes []summaryNode
	for i := 0; i < len(l); {
		e := l[i]
		d := strings.Count(e.Path, "/")
		if d < depth {
			nodes = append(nodes, summaryNode{path: e.Path, hash: e.Sum})
			i++
			continue
		}
		// At depth: the entry with everything under it, as one node.
		end := subtreeEnd(l, i, e.Path)
		if end == i+1 {
			nodes = append(nodes, summaryNode{path: e.Path, hash: e.Sum})
		} else {
			nodes = append(nodes, summaryNode{path: e.Path, subtree: true, hash: subtreeHash(l[i:end], e.Path)})
		}
		i = end
	}
	return nodes
}

// subtreeEnd is the end of the entries from i that are p or under p/,
// which follow p.
func subtreeEnd(l Listing, i int, p string) int {
	j := i + 1
	for j < len(l) && strings.HasPrefix(l[j].Path, p+"/") {
		j++
	}
	return j
}

// subtreeHash hashes the entries of l that are p or under p/ (all of l for
// p == ""), with their paths relative to p.
func subtreeHash(l Listing, p string) uint64 {
	h := fnv.New64a()
	var buf [8]byte
	for _, e := range l {
		rel, ok := relativeTo(e.Path, p)
		if !ok {
			continue
		}
		h.Write([]byte(rel))
		binary.BigEndian.PutUint64(buf[:], e.Sum)
		h.Write(buf[:])
	}
	return h.Sum64()
}

func relativeTo(path, p string) (string, bool) {
	if p == "" || path == p {
		return strings.TrimPrefix(path, p), true
	}
	rel, ok := strings.CutPrefix(path, p+"/")
	return "/" + rel, ok
}

func encodeNodes(nodes []summaryNode) []byte {
	var raw []byte
	raw = append(raw, summaryVersion)
	prev := ""
	for _, n := range nodes {
		shared := commonPrefix(prev, n.path)
		raw = binary.AppendUvarint(raw, uint64(shared))
		raw = binary.AppendUvarint(raw, uint64(len(n.path)-shared))
		raw = append(raw, n.path[shared:]...)
		if n.subtree {
			raw = append(raw, 1)
			raw = binary.BigEndian.AppendUint64(raw, n.hash)
		} else {
			raw = append(raw, 0)
			raw = binary.BigEndian.AppendUint32(raw, uint32(n.hash))
		}
		prev = n.path
	}
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.BestCompression)
	_, _ = w.Write(raw)
	_ = w.Close()
	return out.Bytes()
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// maxSummaryRaw bounds a decoded summary: a corrupt one cannot make a plan
// allocate without end.
const maxSummaryRaw = 64 << 20

func decodeNodes(summary []byte) ([]summaryNode, error) {
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(summary)), maxSummaryRaw))
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	if len(raw) == 0 || raw[0] != summaryVersion {
		return nil, errors.New("summary: unknown version")
	}
	raw = raw[1:]
	var nodes []summaryNode
	prev := ""
	for len(raw) > 0 {
		shared, n1 := binary.Uvarint(raw)
		if n1 <= 0 || shared > uint64(len(prev)) {
			return nil, errors.New("summary: corrupt")
		}
		raw = raw[n1:]
		size, n2 := binary.Uvarint(raw)
		if n2 <= 0 || size >= uint64(len(raw)) {
			return nil, errors.New("summary: corrupt")
		}
		raw = raw[n2:]
		n := summaryNode{path: prev[:shared] + string(raw[:size])}
		raw = raw[size:]
		n.subtree = raw[0] == 1
		raw = raw[1:]
		width := 4
		if n.subtree {
			width = 8
		}
		if len(raw) < width {
			return nil, errors.New("summary: corrupt")
		}
		if n.subtree {
			n.hash = binary.BigEndian.Uint64(raw)
		} else {
			n.hash = uint64(binary.BigEndian.Uint32(raw))
		}
		raw = raw[width:]
		nodes = append(nodes, n)
		prev = n.path
	}
	return nodes, nil
}

// ChangedSince names the paths where l differs from the listing that
// summary was made from: entries added, removed, or changed in type,
// executable bit, content or link target. Where summary recorded a
// directory as a subtree, a change under it is named by the directory
// ("src/api/"); an added directory is named, not its contents. It returns
// at most limit names, in path order, and how many more there are.
func (l Listing) ChangedSince(summary []byte, limit int) (names []string, more int, err error) {
	nodes, err := decodeNodes(summary)
	if err != nil {
		return nil, 0, err
	}
	covered := make([]bool, len(l))
	var changed []string
	for _, n := range nodes {
		lo, hi := l.span(n)
		for i := lo; i < hi; i++ {
			covered[i] = true
		}
		switch {
		case lo == hi:
			changed = append(changed, n.display())
		case n.subtree && subtreeHash(l[lo:hi], n.path) != n.hash:
			changed = append(changed, n.display())
		case !n.subtree && (hi-lo != 1 || uint64(uint32(l[lo].Sum)) != n.hash):
			changed = append(changed, n.path)
		}
	}
	changed = append(changed, l.added(covered)...)
	slices.SortFunc(changed, comparePaths)
	changed = slices.Compact(changed)
	if len(changed) > limit {
		return changed[:limit], len(changed) - limit, nil
	}
	return changed, 0, nil
}

func (n summaryNode) display() string {
	if n.subtree {
		return n.path + "/"
	}
	return n.path
}

// span is where l holds what node n recorded: the entry, or the entry and
// the entries under it, which follow it.
func (l Listing) span(n summaryNode) (int, int) {
	if n.subtree && n.path == "" {
		return 0, len(l)
	}
	lo, found := slices.BinarySearchFunc(l, n.path, func(e Listed, p string) int { return comparePaths(e.Path, p) })
	hi := lo
	if found {
		hi++
	}
	if n.subtree {
		for hi < len(l) && strings.HasPrefix(l[hi].Path, n.path+"/") {
			hi++
		}
	}
	return lo, hi
}

// added names the entries no node covered, each at its topmost: under an
// added directory, only the directory.
func (l Listing) added(covered []bool) []string {
	var names []string
	last := ""
	for i, e := range l {
		if covered[i] {
			continue
		}
		if last != "" && strings.HasPrefix(e.Path, last+"/") {
			continue
		}
		names = append(names, e.Path)
		last = e.Path
	}
	return names
}
