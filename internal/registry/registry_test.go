package registry

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
