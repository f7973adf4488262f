package dockerbuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretRedactorMasksFileAndEnvValues(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("file-secret-1234\nsecond-line-5678\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IMAGEBUILD_REDACT_ENV", "env-secret-9876")
	t.Setenv("IMAGEBUILD_REDACT_SHORT", "ab")
	redact := secretRedactor([]string{
		"id=f,src=" + file,
		"id=e,env=IMAGEBUILD_REDACT_ENV",
		"type=env,id=IMAGEBUILD_REDACT_SHORT",
	}, nil)
	got := redact.Replace("a file-secret-1234 b second-line-5678 c env-secret-9876 ab")
	if want := "a **** b **** c **** ab"; got != want {
		t.Errorf("redacted = %q, want %q", got, want)
	}
}

// Write-only values come from a map, in no fixed order: a value that starts
// another (a user name, then user:password) must never leave the longer
// one's tail in the text, in any run.
func TestSecretRedactorMasksOverlappingValuesInAnyOrder(t *testing.T) {
	values := map[string][]byte{"user": []byte("robot$ci"), "login": []byte("robot$ci:Tr0ub4dor&3")}
	for range 50 {
		if got, want := secretRedactor(nil, values).Replace("auth robot$ci:Tr0ub4dor&3 as robot$ci"), "auth **** as ****"; got != want {
			t.Fatalf("redacted = %q, want %q", got, want)
		}
	}
}

func TestSecretRedactorWithoutValues(t *testing.T) {
	if r := secretRedactor(nil, nil); r != nil {
		t.Errorf("no secrets: got a redactor")
	}
	if r := secretRedactor([]string{"id=x,src=/does/not/exist"}, nil); r != nil {
		t.Errorf("unreadable secret: got a redactor")
	}
}

func TestRedactResultMasksBuildErrorAndStages(t *testing.T) {
	t.Setenv("IMAGEBUILD_REDACT_ENV", "hunter2-secret")
	redact := secretRedactor([]string{"id=e,env=IMAGEBUILD_REDACT_ENV"}, nil)
	result := &Result{Stages: []Stage{{Name: "RUN echo hunter2-secret", Error: "exit hunter2-secret"}}}
	err := error(&BuildError{Step: "RUN", Message: "failed hunter2-secret", Tail: []string{"token: hunter2-secret"}})
	result, err = redactResult(redact, result, err)
	for _, text := range []string{result.Stages[0].Name, result.Stages[0].Error, err.Error()} {
		if strings.Contains(text, "hunter2-secret") {
			t.Errorf("secret left in %q", text)
		}
	}
	_, plain := redactResult(redact, nil, errors.New("engine said hunter2-secret"))
	if strings.Contains(plain.Error(), "hunter2-secret") {
		t.Errorf("secret left in %q", plain)
	}
}
