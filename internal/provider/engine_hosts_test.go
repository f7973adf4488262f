package provider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// tlsEngine exposes the running engine on a loopback TCP port behind TLS
// with client certificates, as `dockerd --tlsverify` would, and writes the
// client's ca.pem, cert.pem and key.pem into a directory for cert_path.
type tlsEngine struct {
	addr     string
	certPath string
	accepted atomic.Int64
}

func startTLSEngine(t *testing.T, socket string) *tlsEngine {
	t.Helper()
	ca, caKey := newCert(t, nil, nil, "imagebuild test CA", true)
	serverCert, serverKey := newCert(t, ca, caKey, "127.0.0.1", false)
	clientCert, clientKey := newCert(t, ca, caKey, "client", false)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	listener, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{serverCert.Raw}, PrivateKey: serverKey}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })

	e := &tlsEngine{addr: listener.Addr().String(), certPath: t.TempDir()}
	writePEM(t, filepath.Join(e.certPath, "ca.pem"), "CERTIFICATE", ca.Raw)
	writePEM(t, filepath.Join(e.certPath, "cert.pem"), "CERTIFICATE", clientCert.Raw)
	keyDER, err := x509.MarshalECPrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(e.certPath, "key.pem"), "EC PRIVATE KEY", keyDER)

	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go e.forward(conn, socket)
		}
	}()
	return e
}

// forward copies bytes both ways, so hijacked connections (the BuildKit
// session) pass too.
func (e *tlsEngine) forward(client net.Conn, socket string) {
	defer client.Close()
	if err := client.(*tls.Conn).Handshake(); err != nil {
		return
	}
	e.accepted.Add(1)
	upstream, err := net.Dial("unix", socket)
	if err != nil {
		return
	}
	defer upstream.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(upstream, client); done <- struct{}{} }()
	go func() { io.Copy(client, upstream); done <- struct{}{} }()
	<-done
}

func newCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAccDockerImage_tcpTLSEngine(t *testing.T) {
	env := requireTestEnv(t)
	engine := startTLSEngine(t, "/var/run/docker.sock")
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY msg.txt /msg.txt\n", env.BaseImage),
		"msg.txt":    "built over tcp+tls\n",
	})
	config := func(certPath string) string {
		return fmt.Sprintf(`
provider "imagebuild" {
  host      = "tcp://%s"
  cert_path = %q
}

resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}`, engine.addr, certPath, uniqueRepo(t), ctxDir)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				// Without client certificates the engine refuses; the error names it.
				Config:      config(t.TempDir()),
				ExpectError: regexp.MustCompile(`(?s)tcp://` + regexp.QuoteMeta(engine.addr)),
			},
			{
				Config: config(engine.certPath),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testImage, "built over tcp+tls", "cat", "/msg.txt"),
					checkImageMatchesState(testImage),
					func(*terraform.State) error {
						if engine.accepted.Load() == 0 {
							return fmt.Errorf("no connection went through the TLS endpoint")
						}
						return nil
					},
				),
			},
		},
	})
}

// The engine behind our own sshd on loopback, reached the way docker/cli
// does: `ssh ... docker system dial-stdio`.
func TestAccDockerImage_sshEngine(t *testing.T) {
	env := requireTestEnv(t)
	ssh := requireEnvVars(t, "IMAGEBUILD_TEST_SSH_HOST", "IMAGEBUILD_TEST_SSH_KEY")
	host, key := ssh[0], ssh[1]
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY msg.txt /msg.txt\n", env.BaseImage),
		"msg.txt":    "built over ssh\n",
	})
	config := func(sshOpts string) string {
		return fmt.Sprintf(`
provider "imagebuild" {
  host     = %q
  ssh_opts = %s
}

resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}`, host, sshOpts, uniqueRepo(t), ctxDir)
	}
	trustAll := `"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				// Without the key sshd refuses; the error names the host.
				Config:      config(fmt.Sprintf(`["-o", "IdentitiesOnly=yes", "-i", "/dev/null", %s]`, trustAll)),
				ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(host)),
			},
			{
				Config: config(fmt.Sprintf(`["-o", "IdentitiesOnly=yes", "-i", %q, %s]`, key, trustAll)),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testImage, "built over ssh", "cat", "/msg.txt"),
					checkImageMatchesState(testImage),
				),
			},
		},
	})
}

func TestAccDockerImage_unreachableEngine(t *testing.T) {
	requireTestEnv(t)
	socket := filepath.Join(t.TempDir(), "no-engine.sock")
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	config := fmt.Sprintf(`
provider "imagebuild" {
  host = "unix://%s"
}

resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}`, socket, uniqueRepo(t), ctxDir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			// Planning never contacts the engine.
			{Config: config, PlanOnly: true, ExpectNonEmptyPlan: true},
			{Config: config, ExpectError: regexp.MustCompile(`(?s)cannot\s+reach\s+the\s+Docker\s+engine\s+at\s+unix://` + regexp.QuoteMeta(socket))},
		},
	})
}
