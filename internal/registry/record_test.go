//go:build recordstreams

package registry

// The recorder of the push streams in testdata: a tool, not a test, so it
// is built only with -tags recordstreams (see testdata/README.md).

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/engine"
)

var record = flag.String("record", "", "record real push streams from the engine at DOCKER_HOST as testdata/push-NAME-{ok,unreachable}.json "+
	"(needs IMAGEBUILD_TEST_REGISTRY, e.g. from scripts/testenv.sh)")

// TestRecordPushStreams makes the testdata: with -record NAME it imports a
// new one-layer image into the engine at DOCKER_HOST, pushes it to
// IMAGEBUILD_TEST_REGISTRY and to a registry that is not there
// (127.0.0.1:1), and saves the raw streams and the registry's digest.
func TestRecordPushStreams(t *testing.T) {
	if *record == "" {
		t.Fatal("give the engine's name: -record NAME (see testdata/README.md)")
	}
	reg := os.Getenv("IMAGEBUILD_TEST_REGISTRY")
	if reg == "" {
		t.Fatal("IMAGEBUILD_TEST_REGISTRY is not set (source scripts/testenv.sh)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := engine.New(engine.Config{})
	c, err := e.Client()
	if err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("%s/imagebuild-record/push:%s", reg, *record)
	if err := importOneLayer(ctx, e, ref); err != nil {
		t.Fatal(err)
	}
	creds := NewCredentials(nil)
	for _, push := range []struct{ suffix, ref string }{{"ok", ref}, {"unreachable", "127.0.0.1:1/imagebuild-record/push:" + *record}} {
		if push.ref != ref {
			if err := c.ImageTag(ctx, ref, push.ref); err != nil {
				t.Fatal(err)
			}
		}
		auth, err := creds.encoded(reg)
		if err != nil {
			t.Fatal(err)
		}
		body, err := c.ImagePush(ctx, push.ref, image.PushOptions{RegistryAuth: auth})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(body)
		body.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join("testdata", fmt.Sprintf("push-%s-%s", *record, push.suffix))
		writeFile(t, name+".json", raw)
		if push.suffix == "ok" {
			inspect, err := c.DistributionInspect(ctx, ref, auth)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, name+".digest", []byte(inspect.Descriptor.Digest.String()+"\n"))
		}
		t.Cleanup(func() { _, _ = c.ImageRemove(context.Background(), push.ref, image.RemoveOptions{}) })
	}
}

// importOneLayer imports a one-file image with random content, so that its
// push uploads a layer as a build's would.
func importOneLayer(ctx context.Context, e *engine.Engine, ref string) error {
	c, err := e.Client()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	content := make([]byte, 16)
	_, _ = rand.Read(content)
	data := []byte(hex.EncodeToString(content) + "\n")
	if err := tw.WriteHeader(&tar.Header{Name: "nonce.txt", Mode: 0o644, Size: int64(len(data)), ModTime: time.Now()}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	out, err := c.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, ref, image.ImportOptions{})
	if err != nil {
		return e.Wrap(err)
	}
	defer out.Close()
	_, err = io.Copy(io.Discard, out)
	return err
}

func writeFile(t *testing.T, name string, raw []byte) {
	t.Helper()
	if err := os.WriteFile(name, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
