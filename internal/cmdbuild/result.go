package cmdbuild

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/distribution/reference"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/redact"
)

const (
	// BuildTagPrefix starts the tag a command is asked to produce when the
	// resource names none. The tag is temporary: the provider retags the
	// image to its content-addressed ref.
	BuildTagPrefix = "tf-build-"

	// maxRefFileBytes is far more than any ref (a name is at most 255 bytes,
	// a tag 128); reading no further keeps a runaway command from filling
	// memory.
	maxRefFileBytes = 4096

	// maxQuotedBytes is how much of a bad ref file an error quotes.
	maxQuotedBytes = 200
)

// NewBuildTag is a fresh tag for one build: tf-build-<unix seconds>-<8
// random hex digits>, so that parallel builds of one repository never
// collide.
func NewBuildTag(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return BuildTagPrefix + strconv.FormatInt(now.Unix(), 10) + "-" + hex.EncodeToString(b[:])
}

// ExpectedRef is the ref a command must produce: repo with outputTag, or,
// when outputTag is empty, repo with buildTag. repo is already the name the
// command must use; a tag or digest on it is dropped.
func ExpectedRef(repo reference.Named, outputTag, buildTag string) (reference.NamedTagged, error) {
	if repo == nil {
		return nil, errors.New("cmdbuild: ExpectedRef needs a repository")
	}
	tag := outputTag
	if tag == "" {
		tag = buildTag
	}
	tagged, err := reference.WithTag(reference.TrimNamed(repo), tag)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid tag: a tag has up to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'", tag)
	}
	return tagged, nil
}

// PrepareRefFile removes the ref file before the command runs, so that a file
// left by an earlier run cannot pass for this run's result. A missing file is
// fine; a directory is not removed (os.Remove would delete an empty one).
func PrepareRefFile(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot check the image ref file %s before the build: %w", path, err)
	}
	if info.IsDir() {
		return fmt.Errorf("the image ref file %s is a directory: name a file that the command writes the ref of the image it built into", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot remove the image ref file %s before the build (a stale ref must not pass for this build's): %w", path, err)
	}
	return nil
}

// ReadRefFile reads the ref a command wrote to path: exactly one tagged ref
// (such as "myapp:v1" or "registry:5000/team/app:abc"), surrounded by any
// whitespace. A ref with both a tag and a digest is accepted, as Tilt does; a
// ref with a digest only is not, since it carries no tag. An error quotes
// the file with mask's secrets masked.
func ReadRefFile(path string, mask *redact.Masker) (reference.NamedTagged, error) {
	content, err := readLimited(path, maxRefFileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist after the command ran: the command must write the ref of the image it built there", path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the image ref file %s: %w", path, err)
	}
	quoted := quotable(content, mask)
	if len(content) > maxRefFileBytes {
		return nil, refFileError(path, quoted, fmt.Sprintf("is longer than %d bytes", maxRefFileBytes))
	}
	text := strings.TrimSpace(string(content))
	if text == "" {
		return nil, refFileError(path, quoted, "is empty")
	}
	if strings.ContainsFunc(text, unicode.IsSpace) {
		return nil, refFileError(path, quoted, "holds more than one word or line")
	}
	return parseTaggedRef(path, quoted, text)
}

// quotable is the ref file as an error may quote it: masked whole, before
// the cut, and without what may be the start of a secret cut off by the
// read limit.
func quotable(content []byte, mask *redact.Masker) string {
	text := string(content)
	if len(content) > maxRefFileBytes {
		text = text[:mask.SafeCut(text)]
	}
	return truncate(mask.Replace(text), maxQuotedBytes)
}

func parseTaggedRef(path, quoted, text string) (reference.NamedTagged, error) {
	named, err := reference.ParseNormalizedNamed(text)
	if err != nil {
		return nil, refFileError(path, quoted, fmt.Sprintf("is not a valid image reference (%v)", err))
	}
	tagged, ok := named.(reference.NamedTagged)
	if !ok {
		return nil, refFileError(path, quoted, "holds a ref without a tag")
	}
	return tagged, nil
}

// refFileError explains what is wrong with the ref file and what it must hold.
func refFileError(path, quoted, problem string) error {
	return fmt.Errorf("%s %s: it holds %q; the command must write a tagged ref such as myapp:v1 to %s",
		path, problem, quoted, path)
}

// readLimited reads up to limit+1 bytes of path, so that the caller can tell
// a file that is too long without reading all of it.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}
