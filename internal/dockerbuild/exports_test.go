package dockerbuild

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseExport(t *testing.T) {
	for _, c := range []struct {
		spec, want, err string
	}{
		{spec: "type=local,dest=out", want: "type=local,dest=out"},
		{spec: "type=tar,dest=a/rootfs.tar", want: "type=tar,dest=a/rootfs.tar"},
		{spec: "type=oci,dest=img.tar,name=app:1", want: "type=oci,dest=img.tar,name=app:1"},
		{spec: "type=oci,dest=img.tar,tar=true", want: "type=oci,dest=img.tar,tar=true"},
		{spec: `"dest=a,b",type=local`, want: "type=local,dest=a,b"},
		{spec: "dest=out", err: "has no type; write type=local,dest=DIR"},
		{spec: "type=local", err: "type=local needs dest="},
		{spec: "type=tar,dest=-", err: "write a path"},
		{spec: "type=image,dest=x", err: "not an export to a path"},
		{spec: "type=s3,dest=x", err: `type "s3" is not supported`},
		{spec: "type=oci,dest=x,tar=false", err: "only the tarball form"},
		{spec: "type=local,output=x", err: "write dest= instead of output="},
		{spec: "type=local,dest", err: "is not KEY=VALUE"},
	} {
		e, err := ParseExport(c.spec)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseExport(%q) = %v, want an error with %q", c.spec, err, c.err)
			}
		case err != nil:
			t.Errorf("ParseExport(%q): %v", c.spec, err)
		case e.String() != c.want:
			t.Errorf("ParseExport(%q) = %s, want %s", c.spec, e, c.want)
		}
	}
}

func TestParseExportsMakesDestAbsolute(t *testing.T) {
	t.Chdir(t.TempDir())
	got, err := ParseExports([]string{"type=local,dest=dist", "type=tar,dest=/abs/x.tar"})
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := filepath.Abs(".")
	if got[0].Dest != filepath.Join(wd, "dist") || got[1].Dest != "/abs/x.tar" || got[0].WritesFile() || !got[1].WritesFile() {
		t.Errorf("ParseExports = %+v", got)
	}
}
