package provider

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Secret values from a file and from the environment, echoed by the build
// itself, must not reach state, plan output, the TRACE log of terraform and
// the provider, error messages or the image.
func TestAccDockerImage_secretsNeverLeak(t *testing.T) {
	env := requireTestEnv(t)
	fileSecret := fmt.Sprintf("file-secret-%d", time.Now().UnixNano())
	envSecret := fmt.Sprintf("env-secret-%d", time.Now().UnixNano())
	secretFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, secretFile, fileSecret+"\n")
	cli := newTerraformCLI(t, "TRACE")
	cli.env = append(cli.env, "IMAGEBUILD_LEAK_SECRET="+envSecret)
	ctxDir := writeFiles(t, map[string]string{"app.txt": "app\n"})
	config := func(exitCode int) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  secrets = ["id=fromfile,src=%s", "id=fromenv,env=IMAGEBUILD_LEAK_SECRET"]
  args    = ["EXIT=%d"]
  dockerfile_contents = <<-EOT
    FROM %s
    ARG EXIT
    RUN --mount=type=secret,id=fromfile --mount=type=secret,id=fromenv \
        echo "file: $(cat /run/secrets/fromfile) env: $(cat /run/secrets/fromenv) %d" && \
        sha256sum /run/secrets/fromfile /run/secrets/fromenv | cut -c1-64 > /digests.txt && exit $EXIT
  EOT
}`, uniqueRepo(t), ctxDir, secretFile, exitCode, env.BaseImage, time.Now().UnixNano())
	}
	var seen []string
	check := func(what, text string) {
		t.Helper()
		seen = append(seen, what)
		for _, secret := range []string{fileSecret, envSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("a secret value is in %s", what)
			}
		}
	}

	// A failing build that printed both secrets: the error quotes its output.
	cli.writeConfig(config(3))
	out, err := cli.run("apply", "-auto-approve", "-no-color")
	if err == nil || !strings.Contains(out, "file: **** env: ****") {
		t.Fatalf("want the build to fail and quote its output, masked; got %v:\n%s", err, out)
	}
	check("the error of a failed build", out)

	cli.writeConfig(config(0))
	check("plan output", cli.mustRun("plan", "-no-color"))
	check("apply output", cli.mustRun("apply", "-auto-approve", "-no-color"))
	state, err := os.ReadFile(filepath.Join(cli.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	check("state", string(state))
	ref := stateRef(t, cli, "imagebuild_docker_image")
	check("docker history", docker(t, "history", "--no-trunc", ref))
	check("docker inspect", docker(t, "image", "inspect", ref))
	check("the image's files", docker(t, "run", "--rm", ref, "sh", "-c", "cat /digests.txt; grep -rs secret- /etc /root /tmp || true"))
	if got, want := docker(t, "run", "--rm", ref, "cat", "/digests.txt"), sha256Hex(fileSecret+"\n")+"\n"+sha256Hex(envSecret)+"\n"; got != want {
		t.Errorf("the build did not receive both secrets: /digests.txt = %q, want %q", got, want)
	}
	log := cli.log()
	if !strings.Contains(log, "file: **** env: ****") {
		t.Errorf("the TRACE log does not show the build's (masked) output; the test would prove nothing")
	}
	check("the TRACE log", log)
	cli.mustRun("destroy", "-auto-approve", "-no-color")
	t.Logf("checked: %s (TRACE log: %d bytes)", strings.Join(seen, ", "), len(log))
}

// secret_env values reach the command and nothing else: not state, plan,
// the TRACE log or the error tail of a failed command.
func TestAccCmdImage_secretEnvNeverLeaks(t *testing.T) {
	requireTestEnv(t)
	requireWriteOnlyClient(t)
	secret := fmt.Sprintf("cmd-secret-%d", time.Now().UnixNano())
	cli := newTerraformCLI(t, "TRACE")
	cli.env = append(cli.env, "TF_VAR_token="+secret)
	config := func(exitCode int) string {
		script := fmt.Sprintf(importScript, fmt.Sprintf(`echo "token: $TOKEN"
printf %%s "$TOKEN" | sha256sum | cut -c1-64 > "$ROOT/token.sha"
test %d = 0 || exit %d`, exitCode, exitCode))
		return fmt.Sprintf(`
variable "token" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "imagebuild_cmd_image" "test" {
  ref        = %q
  env        = { MODE = "release" }
  secret_env = { TOKEN = var.token }
  args       = ["sh", "-c", %s]
}`, uniqueRepo(t), hclString(script))
	}
	check := func(what, text string) {
		t.Helper()
		if strings.Contains(text, secret) {
			t.Errorf("the secret value is in %s", what)
		}
	}

	cli.writeConfig(config(3))
	out, err := cli.run("apply", "-auto-approve", "-no-color")
	if err == nil || !strings.Contains(out, "token: ****") {
		t.Fatalf("want the command to fail and its error to quote its output, masked; got %v:\n%s", err, out)
	}
	check("the error of a failed command", out)

	cli.writeConfig(config(0))
	check("plan output", cli.mustRun("plan", "-no-color", "-out=tfplan"))
	plan, err := os.ReadFile(filepath.Join(cli.dir, "tfplan"))
	if err != nil {
		t.Fatal(err)
	}
	check("the plan file", string(plan))
	check("the plan as JSON", cli.mustRun("show", "-json", "tfplan"))
	check("apply output", cli.mustRun("apply", "-auto-approve", "-no-color", "tfplan"))
	state, err := os.ReadFile(filepath.Join(cli.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	check("state", string(state))
	ref := stateRef(t, cli, "imagebuild_cmd_image")
	if got := strings.TrimSpace(docker(t, "run", "--rm", ref, "cat", "/token.sha")); got != sha256Hex(secret) {
		t.Errorf("the command did not receive the secret: /token.sha = %q, want %q", got, sha256Hex(secret))
	}
	log := cli.log()
	if !strings.Contains(log, "token: ****") {
		t.Errorf("the TRACE log does not show the command's (masked) output; the test would prove nothing")
	}
	check("the TRACE log", log)

	// A new value alone rebuilds nothing: the values are not digested, not
	// even keyed; a new secret_env_version rebuilds.
	expectEmptyPlan(t, cli)
	cli.env = append(cli.env, "TF_VAR_token="+secret+"-rotated")
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Errorf("a new secret_env value with the same secret_env_version planned a change (%v):\n%s", err, out)
	}
	cli.writeConfig(strings.Replace(config(0), "secret_env = {", "secret_env_version = \"2\"\n  secret_env = {", 1))
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err == nil || !strings.Contains(out, "update in-place") {
		t.Errorf("a new secret_env_version planned no rebuild (%v):\n%s", err, out)
	}
	cli.mustRun("destroy", "-auto-approve", "-no-color")
}

// A secret in a long line of a failed command is masked before any cut:
// 473 bytes before it put it across the 512-byte cut of a line in the
// error (and so in status.completed.error in state), and a line of about
// 1 MiB puts it across the split of a long line in the INFO log. Neither
// holds a run of 8 bytes of it; nor does the excerpt of a bad
// outputs_image_ref_to file, with 180 bytes before the secret (cut at 200).
func TestAccCmdImage_secretEnvMaskedBeforeCuts(t *testing.T) {
	requireTestEnv(t)
	requireWriteOnlyClient(t)
	raw := make([]byte, 20)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	secret := hex.EncodeToString(raw) // 40 bytes, as in the proof
	cli := newTerraformCLI(t, "INFO")
	cli.env = append(cli.env, "TF_VAR_token="+secret)
	repo := uniqueRepo(t)
	config := func(script, extra string) string {
		return fmt.Sprintf(`
variable "token" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "imagebuild_cmd_image" "test" {
  ref        = %q
  secret_env = { TOKEN = var.token }
  args       = ["sh", "-c", %s]%s
}`, repo, hclString(script), extra)
	}
	leaked := func(text string) string {
		for i := 0; i+8 <= len(secret); i++ {
			if strings.Contains(text, secret[i:i+8]) {
				return secret[i : i+8]
			}
		}
		return ""
	}
	// applyFails applies, which must fail with an error that quotes marker
	// (the masked secret after its padding), in the output and in state.
	applyFails := func(what, marker string) {
		t.Helper()
		out, err := cli.run("apply", "-auto-approve", "-no-color")
		if err == nil {
			t.Fatalf("%s: want the apply to fail:\n%s", what, out)
		}
		if run := leaked(out); run != "" {
			t.Errorf("%s: the error holds %q of the secret", what, run)
		}
		if !strings.Contains(out, marker) {
			t.Errorf("%s: the error does not quote %q; the test would prove nothing", what, marker)
		}
		state, err := os.ReadFile(filepath.Join(cli.dir, "terraform.tfstate"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(state), marker) {
			t.Errorf("%s: status.completed.error in state does not quote %q; the test would prove nothing", what, marker)
		}
		if run := leaked(string(state)); run != "" {
			t.Errorf("%s: state holds %q of the secret", what, run)
		}
	}

	cli.writeConfig(config(`head -c 1048556 /dev/zero | tr '\0' q; printf %s "$TOKEN"; head -c 100 /dev/zero | tr '\0' r; echo
head -c 473 /dev/zero | tr '\0' p; echo "$TOKEN"
exit 3`, ""))
	applyFails("a failed command", "pppp****")
	log := cli.log()
	if !strings.Contains(log, "qqqq****rrrr") || !strings.Contains(log, "pppp****") {
		t.Errorf("the INFO log does not show the masked lines; the test would prove nothing")
	}
	if run := leaked(log); run != "" {
		t.Errorf("the INFO log holds %q of the secret", run)
	}

	refFile := filepath.Join(t.TempDir(), "ref.txt")
	cli.writeConfig(config(`head -c 180 /dev/zero | tr '\0' x > "$REF_FILE"; printf '%s two words' "$TOKEN" >> "$REF_FILE"`,
		fmt.Sprintf("\n  env = { REF_FILE = %q }\n  outputs_image_ref_to = %q", refFile, refFile)))
	applyFails("a bad outputs_image_ref_to file", "xxxx****")
}
