package main

import (
	"strings"
)

const (
	// The 20.10 client: it builds with BuildKit when DOCKER_BUILDKIT=1; a
	// newer client on PATH would need the buildx plugin for that.
	dockerBinary = "/usr/bin/docker"
	cliRepo      = "imagebuild-bench/cli"
	cliTag       = cliRepo + ":latest"
)

// dockerCLI is the reference side, and the engine housekeeping of both sides.
type dockerCLI struct {
	r *runner
}

// buildArgs is the reference build; the runner's environment has
// DOCKER_BUILDKIT=1.
func (d dockerCLI) buildArgs(contextDir, network string, noCache bool) []string {
	args := []string{dockerBinary, "build", "--progress=plain", "-t", cliTag}
	if network != defaultNetwork {
		args = append(args, "--network", network)
	}
	if noCache {
		args = append(args, "--no-cache")
	}
	return append(args, contextDir)
}

// imageID is "" when the engine has no image ref.
func (d dockerCLI) imageID(ref string) (string, error) {
	id, code, err := d.r.tryOutput(dockerBinary, "image", "inspect", "-f", "{{.Id}}", ref)
	if code != 0 {
		id = ""
	}
	return id, err
}

// repoImages lists the IDs of every image tagged in repo.
func (d dockerCLI) repoImages(repo string) ([]string, error) {
	out, err := d.r.output(dockerBinary, "images", "-q", "--no-trunc", repo)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// removeImages removes images by ID or name; ones already gone are skipped.
func (d dockerCLI) removeImages(refs ...string) error {
	for _, ref := range refs {
		id, err := d.imageID(ref)
		if err != nil {
			return err
		}
		if id == "" {
			continue
		}
		if err := d.r.run(dockerBinary, "rmi", "-f", ref); err != nil {
			return err
		}
	}
	return nil
}

// removeRepo removes every image tagged in repo.
func (d dockerCLI) removeRepo(repo string) error {
	ids, err := d.repoImages(repo)
	if err != nil {
		return err
	}
	return d.removeImages(ids...)
}

// pruneAllBuildCache empties the engine's whole BuildKit cache, other users'
// entries included: only that makes a build as cold as a fresh machine's
// (--no-cache alone still reuses the synced context).
func (d dockerCLI) pruneAllBuildCache() error {
	return d.r.run(dockerBinary, "builder", "prune", "-af")
}
