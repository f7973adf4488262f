package buildcontext

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The hash cache keeps, like git's index, the content hash of every regular
// file of a context together with its stat, so that the next digest of an
// unchanged tree reads no file: a new provider process is started for every
// terraform command, so only a file on disk survives from one plan to the
// next. Whatever goes wrong with the cache only costs hashing.

// racyMargin: a file that changed less than this before a digest started
// may change again without its stat showing it (coarse timestamps, clock
// steps), so its cached hash is not trusted.
const racyMargin = 2 * time.Second

// fileStat is what must be unchanged for a cached hash to be used. The
// change time catches an edit whose size and restored mtime match.
type fileStat struct {
	size, mtime, ctime int64 // ns since the epoch
	inode, device      uint64
	mode               uint32
}

func (s fileStat) lastChange() int64 { return max(s.mtime, s.ctime) }

type cachedHash struct {
	stat fileStat
	sum  [sha256.Size]byte
}

// hashCache is the cache of one root: a context directory or a file.
type hashCache struct {
	root string
	// started is when the digest that wrote the cache began (ns since the
	// epoch), before it took any stat: the racy rule is judged against it
	// rather than against the later time of the write, as a slow digest
	// would otherwise trust files it hashed while they were changing.
	started int64
	// files are sorted by their slash-separated path under root, each path
	// once, for a binary search: decoding the cache into a map cost every
	// warm plan of a 20,000-file context some 15 ms before its walk began.
	files []cachedFile
}

type cachedFile struct {
	path string
	cachedHash
}

// newHashCache sorts files by path, which must each be there once.
func newHashCache(root string, started int64, files []cachedFile) *hashCache {
	slices.SortFunc(files, func(a, b cachedFile) int { return strings.Compare(a.path, b.path) })
	return &hashCache{root: root, started: started, files: files}
}

// find is the index of path in files, if it is there.
func (c *hashCache) find(path string) (int, bool) {
	return slices.BinarySearchFunc(c.files, path, func(f cachedFile, path string) int { return strings.Compare(f.path, path) })
}

// lookup returns the cached hash of path if its stat is unchanged and it
// had settled before the cache was written.
func (c *hashCache) lookup(path string, stat fileStat) ([sha256.Size]byte, bool) {
	if c == nil {
		return [sha256.Size]byte{}, false
	}
	i, ok := c.find(path)
	if !ok || c.files[i].stat != stat || stat.lastChange() >= c.started-racyMargin.Nanoseconds() {
		return [sha256.Size]byte{}, false
	}
	return c.files[i].sum, true
}

// cacheFileName: one file per root, named by the hash of its absolute path.
func cacheFileName(cacheDir, absRoot string) string {
	key := sha256.Sum256([]byte(absRoot))
	return filepath.Join(cacheDir, hex.EncodeToString(key[:]))
}

// loadHashCache returns the cache of root, or nil when there is none that
// can be read and trusted to be whole and of this format.
func loadHashCache(file, root string) *hashCache {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	c, err := decodeHashCache(data)
	if err != nil || c.root != root {
		return nil
	}
	return c
}

// save replaces the cache file atomically: a concurrent reader, maybe
// another provider process, sees the old file or the new one, never a part.
func (c *hashCache) save(file string) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(file)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(c.encode())
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// The file: magic and version, then the header (started, root, count), the
// entries in walk order, each path sharing a prefix with the one before,
// integers as varints and the hash in binary; last, a CRC-32C of all that
// before, so that a damaged file is not believed.
const cacheMagic = "IBDCACHE\x01"

// minEncodedEntry, eight varints of a byte and the hash, bounds the count
// of entries that a file of a given size can hold.
const minEncodedEntry = 8 + sha256.Size

func (c *hashCache) encode() []byte {
	buf := []byte(cacheMagic)
	buf = binary.AppendVarint(buf, c.started)
	buf = appendString(buf, c.root)
	buf = binary.AppendUvarint(buf, uint64(len(c.files)))
	previous := ""
	for _, f := range c.files {
		shared := commonPrefixLen(previous, f.path)
		buf = binary.AppendUvarint(buf, uint64(shared))
		buf = appendString(buf, f.path[shared:])
		buf = binary.AppendVarint(buf, f.stat.size)
		buf = binary.AppendVarint(buf, f.stat.mtime)
		buf = binary.AppendVarint(buf, f.stat.ctime)
		buf = binary.AppendUvarint(buf, f.stat.inode)
		buf = binary.AppendUvarint(buf, f.stat.device)
		buf = binary.AppendUvarint(buf, uint64(f.stat.mode))
		buf = append(buf, f.sum[:]...)
		previous = f.path
	}
	return appendChecksum(buf)
}

func appendChecksum(buf []byte) []byte {
	return binary.BigEndian.AppendUint32(buf, checksum(buf))
}

func checksum(buf []byte) uint32 {
	return crc32.Checksum(buf, crc32.MakeTable(crc32.Castagnoli))
}

var errBadCache = errors.New("not a hash cache of this version, or damaged")

func decodeHashCache(data []byte) (*hashCache, error) {
	if len(data) < len(cacheMagic)+4 || string(data[:len(cacheMagic)]) != cacheMagic {
		return nil, errBadCache
	}
	body, sum := data[:len(data)-4], data[len(data)-4:]
	if checksum(body) != binary.BigEndian.Uint32(sum) {
		return nil, errBadCache
	}
	d := decoder{data: body[len(cacheMagic):]}
	c := &hashCache{started: d.varint(), root: d.string()}
	count := d.uvarint()
	if count > uint64(len(d.data)/minEncodedEntry) {
		return nil, errBadCache
	}
	// The paths go into one buffer, made a string once: a string per path
	// would be an allocation per file. Spelled out they are mostly shorter
	// than the rest of the file, whose entries hold at least a hash each.
	files := make([]cachedFile, count)
	ends := make([]int, count)
	paths := make([]byte, 0, len(d.data))
	path := 0 // where the previous path starts in paths
	for i := range files {
		shared := d.uvarint()
		if shared > uint64(len(paths)-path) {
			return nil, errBadCache
		}
		start := len(paths)
		paths = append(paths, paths[path:path+int(shared)]...)
		paths = append(paths, d.bytes()...)
		path, ends[i] = start, len(paths)
		f := &files[i]
		f.stat = fileStat{size: d.varint(), mtime: d.varint(), ctime: d.varint(),
			inode: d.uvarint(), device: d.uvarint(), mode: uint32(d.uvarint())}
		copy(f.sum[:], d.next(sha256.Size))
	}
	if d.failed || len(d.data) != 0 {
		return nil, errBadCache
	}
	all, start := string(paths), 0
	for i := range files {
		files[i].path, start = all[start:ends[i]], ends[i]
		if i > 0 && files[i-1].path >= files[i].path {
			return nil, errBadCache // lookup's binary search needs them sorted
		}
	}
	c.files = files
	return c, nil
}

// decoder reads the cache's fields; past the end it returns zeros and
// remembers that it failed.
type decoder struct {
	data   []byte
	failed bool
}

func (d *decoder) uvarint() uint64 { return readVarint(d, binary.Uvarint) }
func (d *decoder) varint() int64   { return readVarint(d, binary.Varint) }

func readVarint[T uint64 | int64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.data)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) fail() { d.failed, d.data = true, nil }

func (d *decoder) next(n uint64) []byte {
	if n > uint64(len(d.data)) {
		d.fail()
		return nil
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) bytes() []byte  { return d.next(d.uvarint()) }
func (d *decoder) string() string { return string(d.bytes()) }

func appendString(buf []byte, s string) []byte {
	return append(binary.AppendUvarint(buf, uint64(len(s))), s...)
}

func commonPrefixLen(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
