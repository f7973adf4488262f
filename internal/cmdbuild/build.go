package cmdbuild

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/distribution/reference"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
)

// OutputMode says where a command leaves the image it builds.
type OutputMode string

const (
	// LocalDocker: in the engine; the provider retags it and pushes it if the
	// cluster needs it.
	LocalDocker OutputMode = "local-docker"
	// LocalDockerAndRemote: in the engine and already pushed by the command.
	LocalDockerAndRemote OutputMode = "local-docker-and-remote"
	// Remote: only in a registry; the expected ref is the result as it is.
	Remote OutputMode = "remote"
)

// OutputModes lists the valid modes, for validation.
var OutputModes = []string{string(LocalDocker), string(LocalDockerAndRemote), string(Remote)}

// Images is what a build needs of the engine's image store: finding the
// image the command built.
type Images interface {
	InspectImage(ctx context.Context, ref string) (id string, found bool, err error)
}

// Spec is one build: the command and how to find what it built.
type Spec struct {
	// Repo is the repository as the user wrote it; ClusterRepo is the same
	// moved into the cluster's registry (equal to Repo without a registry).
	Repo, ClusterRepo reference.Named
	// ClusterTagPrefix starts every tag in ClusterRepo (a single-name
	// registry puts the image's name there).
	ClusterTagPrefix string
	Command          Command
	// UserEnv is the resource's env; BaseEnv is Terraform's environment.
	UserEnv map[string]string
	BaseEnv []string
	// Vars holds the registry, engine and image map variables; Build fills in
	// the expected ref.
	Vars              ExpectedVars
	OutputMode        OutputMode
	OutputTag         string
	OutputsImageRefTo string
}

// Result is the image a build produced.
type Result struct {
	// ImageID is the image in the engine; empty in remote mode, where the
	// image lives only in a registry.
	ImageID string
	// BuiltRef is the ref the command produced (the expected one, or the one
	// in the ref file).
	BuiltRef string
	// ScratchTag is the tag the provider invented for this run
	// (tf-build-...), if any: the caller removes it from the engine once it
	// has named the image, or after a failure.
	ScratchTag string
}

// Build runs the command and finds and checks the image it built; naming it
// is the caller's. The result is never nil: after a failure it still names
// the scratch tag, which the command may have made before it failed.
func Build(ctx context.Context, images Images, spec Spec, now time.Time) (*Result, error) {
	result := &Result{}
	expected, err := prepare(&spec, now)
	if err != nil {
		return result, err
	}
	if expected != nil && spec.OutputTag == "" {
		result.ScratchTag = imageref.Familiar(expected)
	}
	spec.Command.Env = Environment(spec.BaseEnv, spec.UserEnv, spec.Vars)
	if err := Run(ctx, spec.Command); err != nil {
		return result, err
	}
	built := expected
	if spec.OutputsImageRefTo != "" {
		if built, err = ReadRefFile(spec.OutputsImageRefTo, spec.Command.Redact); err != nil {
			return result, err
		}
	}
	result.BuiltRef = imageref.Familiar(built)
	if spec.OutputMode == Remote {
		return result, nil
	}
	id, found, err := images.InspectImage(ctx, result.BuiltRef)
	if err != nil {
		return result, err
	}
	if !found {
		return result, missingImageError(spec, result.BuiltRef)
	}
	result.ImageID = id
	return result, nil
}

// prepare sets the expected ref (nil in ref-file mode) and clears a ref file
// left by an earlier run.
func prepare(spec *Spec, now time.Time) (reference.NamedTagged, error) {
	if spec.OutputsImageRefTo != "" {
		spec.Vars.OmitExpected = true
		return nil, PrepareRefFile(spec.OutputsImageRefTo)
	}
	// As Tilt's custom builder: the command is told the ref where the
	// cluster pulls, so that a command that pushes pushes there; with
	// output_tag it knows nothing of the registry: it produces the ref as
	// written, and the provider adds the registry when it retags (in remote
	// mode the command pushed that ref to the registry the ref names).
	repo, tag := spec.ClusterRepo, spec.ClusterTagPrefix+NewBuildTag(now)
	if spec.OutputTag != "" {
		repo, tag = spec.Repo, spec.OutputTag
	}
	expected, err := ExpectedRef(repo, "", tag)
	if err != nil {
		return nil, err
	}
	spec.Vars.SetExpected(expected)
	return expected, nil
}

func missingImageError(spec Spec, ref string) error {
	var how string
	switch {
	case spec.OutputsImageRefTo != "":
		how = fmt.Sprintf("the command wrote %s to %s, so it must build and tag that image in the engine", ref, spec.OutputsImageRefTo)
	case spec.OutputTag != "":
		how = fmt.Sprintf("output_tag is %q, so the command must tag its image %s (it is in $EXPECTED_REF)", spec.OutputTag, ref)
	default:
		how = "the command must tag its image with $EXPECTED_REF (e.g. `docker build -t \"$EXPECTED_REF\" .`), or set output_tag or outputs_image_ref_to"
	}
	if spec.OutputMode == LocalDockerAndRemote || spec.OutputMode == LocalDocker {
		how += fmt.Sprintf("; output_mode %q looks for it in the engine at %s", spec.OutputMode, engineOf(spec))
	}
	return fmt.Errorf("the command %s finished, but the engine has no image %s: %s", quoteArgs(spec.Command.Args), ref, how)
}

func engineOf(spec Spec) string {
	if spec.Vars.DockerHost != "" {
		return spec.Vars.DockerHost
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "the default socket"
}
