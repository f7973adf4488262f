package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clearDockerEnv leaves only what a case sets, with no CLI context.
func clearDockerEnv(t *testing.T) {
	for _, k := range []string{"DOCKER_HOST", envCertPath, envTLSVerify, envTLS, envContext} {
		t.Setenv(k, "")
	}
	t.Setenv(envConfig, t.TempDir())
}

func TestNewTLSChoice(t *testing.T) {
	cases := []struct {
		name    string
		config  Config
		env     map[string]string
		want    TLS // CertPath "config" stands for DOCKER_CONFIG
		wantURL string
	}{
		{name: "plain tcp", env: map[string]string{"DOCKER_HOST": "tcp://h:2375"}, wantURL: "tcp://h:2375"},
		{name: "DOCKER_TLS_VERIFY uses the config dir", env: map[string]string{"DOCKER_HOST": "tcp://h:2376", envTLSVerify: "1"},
			want: TLS{Enabled: true, Verify: true, CertPath: "config"}, wantURL: "tcp://h:2376"},
		{name: "DOCKER_TLS_VERIFY=0 still verifies, as the CLI", env: map[string]string{"DOCKER_HOST": "tcp://h:2376", envTLSVerify: "0"},
			want: TLS{Enabled: true, Verify: true, CertPath: "config"}, wantURL: "tcp://h:2376"},
		{name: "DOCKER_TLS without verification", env: map[string]string{"DOCKER_HOST": "tcp://h:2376", envTLS: "1"},
			want: TLS{Enabled: true, CertPath: "config"}, wantURL: "tcp://h:2376"},
		{name: "DOCKER_CERT_PATH wins and verifies", env: map[string]string{"DOCKER_HOST": "tcp://h:2376", envTLS: "1", envCertPath: "/certs"},
			want: TLS{Enabled: true, Verify: true, CertPath: "/certs"}, wantURL: "tcp://h:2376"},
		{name: "provider host and cert_path", config: Config{Host: "tcp://p:2376", CertPath: "/p"},
			want: TLS{Enabled: true, Verify: true, CertPath: "/p"}, wantURL: "tcp://p:2376"},
		{name: "provider host with DOCKER_TLS_VERIFY", config: Config{Host: "tcp://p:2376"}, env: map[string]string{envTLSVerify: "1"},
			want: TLS{Enabled: true, Verify: true, CertPath: "config"}, wantURL: "tcp://p:2376"},
		{name: "no host with TLS is the TLS port", env: map[string]string{envTLSVerify: "1"},
			want: TLS{Enabled: true, Verify: true, CertPath: "config"}, wantURL: defaultTLSHost},
		{name: "a socket never uses TLS", env: map[string]string{"DOCKER_HOST": "unix:///run/d.sock", envTLSVerify: "1"}, wantURL: "unix:///run/d.sock"},
		{name: "ssh never uses TLS", config: Config{Host: "ssh://u@h", CertPath: "/p"}, wantURL: "ssh://u@h"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearDockerEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if tc.want.CertPath == "config" {
				tc.want.CertPath = os.Getenv(envConfig)
			}
			e := New(tc.config)
			if got := e.TLS(); got != tc.want {
				t.Errorf("TLS() = %+v, want %+v", got, tc.want)
			}
			if e.Host() != tc.wantURL {
				t.Errorf("Host() = %q, want %q", e.Host(), tc.wantURL)
			}
		})
	}
}

// With the setup Docker's documentation describes (DOCKER_HOST=tcp://...,
// DOCKER_TLS_VERIFY=1, certificates in ~/.docker, no DOCKER_CERT_PATH), the
// first bytes on the wire are a TLS handshake, never an HTTP request.
func TestTLSVerifyFromHomeSpeaksTLS(t *testing.T) {
	clearDockerEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv(envConfig, "")
	dir := filepath.Join(home, ".docker")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeTestCA(t, filepath.Join(dir, "ca.pem"))

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	first := make(chan []byte, 1)
	go func() {
		conn, err := listener.Accept()
		if err != nil {
			first <- nil
			return
		}
		defer conn.Close()
		buf := make([]byte, 16)
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _ := conn.Read(buf)
		first <- buf[:n]
	}()

	t.Setenv("DOCKER_HOST", "tcp://"+listener.Addr().String())
	t.Setenv(envTLSVerify, "1")
	e := New(Config{})
	if got := e.TLS(); !got.Enabled || !got.Verify || got.CertPath != dir {
		t.Fatalf("TLS() = %+v, want verification with %s", got, dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _, _ = e.ServerVersion(ctx) }()

	select {
	case b := <-first:
		if len(b) == 0 || b[0] != 0x16 {
			t.Fatalf("first bytes %q: want a TLS handshake record (0x16)", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client never connected")
	}
}

// Without ca.pem there is no way to verify: the error says where it looked.
func TestTLSVerifyWithoutCA(t *testing.T) {
	clearDockerEnv(t)
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	t.Setenv(envTLSVerify, "1")
	_, err := New(Config{}).Client()
	if err == nil || !containsAll(err.Error(), filepath.Join(os.Getenv(envConfig), "ca.pem"), "cert_path", "DOCKER_CERT_PATH") {
		t.Fatalf("Client() error = %v, want one naming the missing ca.pem and what to set", err)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func writeTestCA(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
