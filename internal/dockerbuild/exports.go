package dockerbuild

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/buildkit/session/filesync"
	"github.com/tonistiigi/go-csvvalue"
)

// Export is one `exports` entry (`--output`): where the build's result is
// also written on the machine that runs the build's client.
type Export struct {
	// Type is ExportOCI, ExportTar or ExportLocal.
	Type string
	// Dest is a file (oci, tar) or a directory (local); absolute once
	// Resolve has run.
	Dest string
	// Attrs are the spec's other options, passed to the exporter as written.
	Attrs map[string]string
}

// The exporters an `exports` entry may name.
const (
	ExportOCI   = "oci"
	ExportTar   = "tar"
	ExportLocal = "local"
)

const writeExport = "write type=local,dest=DIR (the files of the build's result), type=tar,dest=FILE (the same files as a tarball) " +
	"or type=oci,dest=FILE (the image as an OCI layout tarball)"

// ParseExport reads one exports spec, as buildctl's --output does, and
// checks what each type needs. dest stays as written.
func ParseExport(spec string) (Export, error) {
	fields, err := csvvalue.Fields(spec, nil)
	if err != nil {
		return Export{}, fmt.Errorf("exports %q: %v; %s", spec, err, writeExport)
	}
	e := Export{Attrs: map[string]string{}}
	for _, field := range fields {
		key, value, ok := strings.Cut(field, "=")
		if !ok {
			return Export{}, fmt.Errorf("exports %q: %q is not KEY=VALUE; %s", spec, field, writeExport)
		}
		switch key = strings.ToLower(strings.TrimSpace(key)); key {
		case "type":
			e.Type = value
		case "dest":
			e.Dest = value
		default:
			e.Attrs[key] = value
		}
	}
	switch e.Type {
	case ExportOCI, ExportTar, ExportLocal:
	case "":
		return Export{}, fmt.Errorf("exports %q has no type; %s", spec, writeExport)
	case "image", "registry", "docker":
		return Export{}, fmt.Errorf("exports %q: type %q is not an export to a path: the image itself goes to the cluster's registry "+
			"or the Docker engine (cluster_needs, load); %s", spec, e.Type, writeExport)
	default:
		return Export{}, fmt.Errorf("exports %q: type %q is not supported; %s", spec, e.Type, writeExport)
	}
	if _, ok := e.Attrs["output"]; ok {
		return Export{}, fmt.Errorf("exports %q: write dest= instead of output=", spec)
	}
	switch {
	case e.Dest == "":
		return Export{}, fmt.Errorf("exports %q: type=%s needs dest=; %s", spec, e.Type, writeExport)
	case e.Dest == "-":
		return Export{}, fmt.Errorf("exports %q: dest=- (standard output) would mix the export into Terraform's output; write a path", spec)
	}
	if v, ok := e.Attrs["tar"]; ok && e.Type == ExportOCI && v != "true" {
		return Export{}, fmt.Errorf("exports %q: only the tarball form of type=oci is supported; remove tar=%s", spec, v)
	}
	return e, nil
}

// ParseExports reads every spec and makes each dest absolute, relative to
// the working directory (Terraform's).
func ParseExports(specs []string) ([]Export, error) {
	var out []Export
	for _, spec := range specs {
		e, err := ParseExport(spec)
		if err != nil {
			return nil, err
		}
		if e.Dest, err = filepath.Abs(e.Dest); err != nil {
			return nil, fmt.Errorf("exports %q: %w", spec, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// String is the export as buildctl's --output writes it, attributes sorted.
func (e Export) String() string {
	parts := []string{"type=" + e.Type, "dest=" + e.Dest}
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+e.Attrs[k])
	}
	return strings.Join(parts, ",")
}

// WritesFile says whether the exporter sends one file (oci, tar) rather
// than a directory (local).
func (e Export) WritesFile() bool { return e.Type != ExportLocal }

// FileOutput opens e.Dest (and its directory) when the exporter starts
// sending, so a build that fails first leaves a previous export in place.
func (e Export) FileOutput() filesync.FileOutputFunc {
	return func(map[string]string) (io.WriteCloser, error) {
		if err := os.MkdirAll(filepath.Dir(e.Dest), 0o755); err != nil {
			return nil, fmt.Errorf("exports: %w", err)
		}
		f, err := os.Create(e.Dest)
		if err != nil {
			return nil, fmt.Errorf("exports: %w", err)
		}
		return f, nil
	}
}

// syncTarget serves exports to the daemon: the i-th export is exporter
// first+i of the solve request.
func syncTarget(exports []Export, first int) *filesync.SyncTarget {
	var targets []filesync.FSSyncTarget
	for i, e := range exports {
		if e.WritesFile() {
			targets = append(targets, filesync.WithFSSync(first+i, e.FileOutput()))
		} else {
			targets = append(targets, filesync.WithFSSyncDir(first+i, e.Dest))
		}
	}
	return filesync.NewFSSyncTarget(targets...)
}
