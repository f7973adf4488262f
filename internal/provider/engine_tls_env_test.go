package provider

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testEngineSocket is the local socket of the tests' own engine (the
// matrix cell's DOCKER_HOST, else the machine's).
func testEngineSocket() string {
	if s := strings.TrimPrefix(os.Getenv("DOCKER_HOST"), "unix://"); s != "" {
		return s
	}
	return "/var/run/docker.sock"
}

// dockerTLSEnvCLI is a terraform run whose provider finds the engine only
// through the environment Docker's documentation describes for a remote
// engine: DOCKER_HOST=tcp://..., DOCKER_TLS_VERIFY=1 and the certificates
// in the CLI's configuration directory (DOCKER_CONFIG), no DOCKER_CERT_PATH
// and no provider host.
func dockerTLSEnvCLI(t *testing.T, addr, configDir string) *terraformCLI {
	t.Helper()
	cli := newTerraformCLI(t, "INFO")
	var env []string
	for _, kv := range cli.env {
		key, _, _ := strings.Cut(kv, "=")
		switch key {
		case "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_TLS":
			continue
		}
		env = append(env, kv)
	}
	cli.env = append(env, "DOCKER_HOST=tcp://"+addr, "DOCKER_TLS_VERIFY=1", "DOCKER_CONFIG="+configDir)
	return cli
}

// DOCKER_TLS_VERIFY with certificates in the CLI's configuration directory:
// images are built over TLS with the client certificate, and a build
// command gets DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, so its own docker CLI
// reaches the same engine.
func TestAccDockerImage_tlsVerifyFromEnvironment(t *testing.T) {
	env := requireTestEnv(t)
	engine := startTLSEngine(t, testEngineSocket())
	cli := dockerTLSEnvCLI(t, engine.addr, engine.certPath)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY msg.txt /msg.txt\n", env.BaseImage),
		"msg.txt":    "built over tcp+tls from the environment\n",
	})
	seen := filepath.Join(t.TempDir(), "env.txt")
	script := fmt.Sprintf(`echo "$DOCKER_HOST|$DOCKER_TLS_VERIFY|$DOCKER_CERT_PATH|${DOCKER_TLS:-}" > %q && docker tag %s "$EXPECTED_REF"`, seen, env.BaseImage)
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}

resource "imagebuild_cmd_image" "test" {
  ref  = %q
  args = ["sh", "-c", %s]
}`, uniqueRepo(t), ctxDir, uniqueRepo(t), hclString(script)))

	cli.mustRun("apply", "-auto-approve", "-no-color")
	if engine.accepted.Load() == 0 {
		t.Error("no connection went through the TLS endpoint")
	}
	ref := stateRef(t, cli, "imagebuild_docker_image")
	if out, err := dockerErr("run", "--rm", ref, "cat", "/msg.txt"); err != nil || strings.TrimSpace(out) != "built over tcp+tls from the environment" {
		t.Errorf("docker run %s: %q, %v", ref, out, err)
	}
	cmdRef := stateRef(t, cli, "imagebuild_cmd_image")
	if _, err := dockerErr("image", "inspect", cmdRef); err != nil {
		t.Errorf("the command's image %s is not in the engine: %v", cmdRef, err)
	}
	raw, err := os.ReadFile(seen)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(raw)), fmt.Sprintf("tcp://%s|1|%s|", engine.addr, engine.certPath); got != want {
		t.Errorf("the command saw DOCKER_HOST|DOCKER_TLS_VERIFY|DOCKER_CERT_PATH|DOCKER_TLS = %q, want %q", got, want)
	}
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Errorf("second plan is not empty (%v):\n%s", err, out)
	}
	cli.mustRun("destroy", "-auto-approve", "-no-color")
}

// firstBytesListener accepts plain TCP connections and keeps the first
// bytes each one sends, then closes it.
type firstBytesListener struct {
	net.Listener
	mu    sync.Mutex
	first [][]byte
}

func startFirstBytesListener(t *testing.T) *firstBytesListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f := &firstBytesListener{Listener: l}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 16)
				n, _ := conn.Read(buf)
				f.mu.Lock()
				f.first = append(f.first, buf[:n])
				f.mu.Unlock()
			}()
		}
	}()
	return f
}

func (f *firstBytesListener) seen() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.first...)
}

// With DOCKER_TLS_VERIFY=1 the provider opens every engine connection with
// a TLS handshake: a plain listener sees a ClientHello (record type 0x16),
// never an HTTP request that could carry registry credentials.
func TestAccDockerImage_tlsVerifyNeverPlainHTTP(t *testing.T) {
	env := requireTestEnv(t)
	listener := startFirstBytesListener(t)
	configDir := startTLSEngine(t, testEngineSocket()).certPath // only its ca.pem, cert.pem and key.pem
	addr := listener.Addr().String()
	cli := dockerTLSEnvCLI(t, addr, configDir)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\n", env.BaseImage)})
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}`, uniqueRepo(t), ctxDir))

	out, err := cli.run("apply", "-auto-approve", "-no-color")
	if err == nil {
		t.Fatalf("apply against a plain listener succeeded:\n%s", out)
	}
	if !regexp.MustCompile(`(?s)tcp://` + regexp.QuoteMeta(addr)).MatchString(out) {
		t.Errorf("the error does not name the engine tcp://%s:\n%s", addr, out)
	}
	seen := listener.seen()
	if len(seen) == 0 {
		t.Fatalf("the provider never connected to tcp://%s:\n%s", addr, out)
	}
	for i, b := range seen {
		if len(b) == 0 || b[0] != 0x16 {
			t.Errorf("connection %d began with %q: want a TLS handshake (0x16), never plain HTTP", i, b)
		}
	}
}
