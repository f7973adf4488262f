package registry

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
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/engine"
)

var record = flag.String("record", "", "record real push streams from the engine at DOCKER_HOST as testdata/push-NAME-{ok,unreachable}.json "+
	"(needs IMAGEBUILD_TEST_REGISTRY, e.g. from scripts/testenv.sh)")

// Every recorded stream of a successful push gives the digest that the
// registry itself reported when it was recorded (the .digest file).
func TestReadPushStream_recorded(t *testing.T) {
	streams, err := filepath.Glob("testdata/push-*-ok.json")
	if err != nil {
		t.Fatal(err)
	}
	// One stream per engine and image store: Docker 20.10, and Docker 29
	// with the containerd store (no aux message) and with overlay2.
	if len(streams) < 3 {
		t.Fatalf("want recorded streams of 3 engines in testdata, found %v", streams)
	}
	for _, stream := range streams {
		t.Run(filepath.Base(stream), func(t *testing.T) {
			raw := readFile(t, stream)
			want := strings.TrimSpace(string(readFile(t, strings.TrimSuffix(stream, ".json")+".digest")))
			got, err := readPushStream(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("digest %q, want %q (the registry's)", got, want)
			}
		})
	}
}

// The containerd store's stream really lacks the aux message, so that the
// status-line path is what its test covers.
func TestReadPushStream_containerdStoreHasNoAux(t *testing.T) {
	raw := readFile(t, "testdata/push-docker29-containerd-ok.json")
	if bytes.Contains(raw, []byte(`"aux"`)) {
		t.Fatal("the recorded containerd-store stream has an aux message; re-record it or drop this test")
	}
	if !bytes.Contains(readFile(t, "testdata/push-docker20.10-ok.json"), []byte(`"aux"`)) {
		t.Fatal("the recorded Docker 20.10 stream has no aux message")
	}
}

// A push the engine could not make ends with an error message, which is
// the push's error.
func TestReadPushStream_recordedErrors(t *testing.T) {
	streams, err := filepath.Glob("testdata/push-*-unreachable.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) < 3 {
		t.Fatalf("want recorded failed pushes of 3 engines in testdata, found %v", streams)
	}
	for _, stream := range streams {
		t.Run(filepath.Base(stream), func(t *testing.T) {
			got, err := readPushStream(bytes.NewReader(readFile(t, stream)))
			if err == nil {
				t.Fatalf("no error; digest %q", got)
			}
			if !strings.Contains(err.Error(), "127.0.0.1:1") {
				t.Errorf("error %q does not name the registry", err)
			}
		})
	}
}

func TestReadPushStream(t *testing.T) {
	const (
		d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	for _, tc := range []struct {
		name, stream, want, err string
	}{
		{name: "aux wins over status", stream: `{"status":"tf-1: digest: ` + d1 + ` size: 527"}` + "\n" +
			`{"progressDetail":{},"aux":{"Tag":"tf-1","Digest":"` + d2 + `","Size":527}}`, want: d2},
		{name: "status line only", stream: `{"status":"The push refers to repository [127.0.0.1:5055/a]"}` +
			`{"status":"latest: digest: ` + d1 + ` size: 855"}`, want: d1},
		{name: "last status line wins", stream: `{"status":"a: digest: ` + d2 + ` size: 1"}{"status":"b: digest: ` + d1 + ` size: 2"}`, want: d1},
		{name: "digest line with more after it", stream: `{"status":"Pushed","id":"` + d1[7:19] + `"}` +
			`{"status":"digest: ` + d1 + ` size: 1 and more"}`, want: ""},
		{name: "no digest", stream: `{"status":"Preparing","id":"abc"}`, want: ""},
		{name: "empty", stream: ``, want: ""},
		{name: "error", stream: `{"status":"Preparing","id":"abc"}{"errorDetail":{"message":"denied"},"error":"denied"}`, err: "denied"},
		{name: "error after digest", stream: `{"status":"a: digest: ` + d1 + ` size: 1"}{"errorDetail":{"message":"boom"},"error":"boom"}`, err: "boom"},
		{name: "garbage", stream: `{"status":`, err: "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readPushStream(strings.NewReader(tc.stream))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("digest %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRecordPushStreams makes the testdata: with -record NAME it imports a
// new one-layer image into the engine at DOCKER_HOST, pushes it to
// IMAGEBUILD_TEST_REGISTRY and to a registry that is not there
// (127.0.0.1:1), and saves the raw streams and the registry's digest.
func TestRecordPushStreams(t *testing.T) {
	if *record == "" {
		t.Skip("records only with -record NAME (see testdata/README.md)")
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

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func writeFile(t *testing.T, name string, raw []byte) {
	t.Helper()
	if err := os.WriteFile(name, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
