package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerfile"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
)

// docker_image's image_maps: the images they name replace the Dockerfile's
// references to their repositories for the build (see internal/dockerfile),
// as Tilt injects image maps. The input digest still takes the Dockerfile
// as written and the maps, so this changes no digest.

// dockerfileSource is the Dockerfile as written: its text, the path it was
// read from ("" for dockerfile_contents), and the attribute that names it.
func (m *dockerImageModel) dockerfileSource(contextDir string) (text, file, attr string, err error) {
	if !m.DockerfileContents.IsNull() {
		return m.DockerfileContents.ValueString(), "", "dockerfile_contents", nil
	}
	file, attr = filepath.Join(contextDir, "Dockerfile"), "dockerfile_contents"
	if !m.Dockerfile.IsNull() {
		if file, err = filepath.Abs(m.Dockerfile.ValueString()); err != nil {
			return "", "", "dockerfile", err
		}
		attr = "dockerfile"
	}
	raw, err := os.ReadFile(file)
	return string(raw), file, attr, err
}

// clusterRename is how the cluster's registry renames a repository that
// an image map's resource pushed there: a map "localhost:5000/acme_base:tf-…"
// stands for the Dockerfile's "acme/base". Nil without a registry.
func clusterRename(cluster Cluster) dockerfile.Rename {
	if cluster.RegistryHost == "" {
		return nil
	}
	return func(n reference.Named) (reference.Named, string, error) {
		placed, err := cluster.registry().Place(n)
		return placed.Repo, placed.TagPrefix, err
	}
}

// buildArgValues are the build args that have a value, as the Dockerfile's
// ARGs see them.
func buildArgValues(args map[string]*string) map[string]string {
	out := make(map[string]string, len(args))
	for k, v := range args {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// injectImageMaps gives the build the Dockerfile with m's image maps
// injected, when one matches. The file keeps its name and its
// <Dockerfile>.dockerignore (see dockerbuild.Options). A Dockerfile that
// does not parse is left to BuildKit, which says where it fails.
func injectImageMaps(ctx context.Context, m *dockerImageModel, opts *dockerbuild.Options, cluster Cluster) error {
	maps := listStrings(ctx, m.ImageMaps)
	if len(maps) == 0 {
		return nil
	}
	text, file, attr, err := m.dockerfileSource(opts.ContextDir)
	if err != nil {
		return fmt.Errorf("%s: cannot read the Dockerfile: %w", attr, err)
	}
	parsed, err := dockerfile.Parse(text)
	if err != nil {
		return nil
	}
	rewritten, matches, err := parsed.InjectImageMaps(maps, buildArgValues(opts.BuildArgs), clusterRename(cluster))
	if err != nil {
		return fmt.Errorf("image_maps: cannot inject them into the Dockerfile: %w", err)
	}
	for _, match := range matches {
		for _, r := range match.Refs {
			tflog.Info(ctx, "image map injected into the Dockerfile", map[string]any{"image_map": match.Map, "replaces": r.String()})
		}
	}
	if rewritten == text {
		return nil
	}
	opts.DockerfileContents = &rewritten
	if file != "" {
		opts.DockerfilePath = file
	}
	return nil
}

// checkImageMaps warns, at plan, of each image map that matches no image
// of the Dockerfile: the build would not use it. Only when the maps, the
// Dockerfile, the args and the cluster are known, and every reference of
// the Dockerfile is (an ARG without a value may name any image).
func checkImageMaps(ctx context.Context, m *dockerImageModel, cluster Cluster, clusterKnown bool, diags *diag.Diagnostics) {
	if !clusterKnown || m.ImageMaps.IsNull() || !allKnown(m.ImageMaps, m.Args, m.Context, m.DockerfileContents, m.Dockerfile) {
		return
	}
	var maps []string
	for _, e := range m.ImageMaps.Elements() {
		s, ok := e.(types.String)
		if !ok || s.IsNull() {
			return
		}
		maps = append(maps, s.ValueString())
	}
	contextDir, err := filepath.Abs(m.Context.ValueString())
	if err != nil || len(maps) == 0 {
		return
	}
	text, _, _, err := m.dockerfileSource(contextDir)
	if err != nil {
		return // checkPlan says so
	}
	parsed, err := dockerfile.Parse(text)
	if err != nil {
		return
	}
	args, err := dockerbuild.ParseBuildArgs(listStrings(ctx, m.Args))
	if err != nil {
		return
	}
	values := buildArgValues(args)
	refs := parsed.BaseRefs(values)
	var names []string
	for _, r := range refs {
		if r.Unresolved {
			return
		}
		names = append(names, r.String())
	}
	for i, match := range parsed.MatchImageMaps(maps, values, clusterRename(cluster)) {
		if len(match.Refs) > 0 {
			continue
		}
		summary := "Image map matches no image of the Dockerfile"
		if match.Name == nil {
			summary = "Image map names no repository"
		}
		diags.AddAttributeWarning(path.Root("image_maps").AtListIndex(i), summary, unmatchedMapDetail(match, names))
	}
}

func unmatchedMapDetail(match dockerfile.Match, names []string) string {
	if match.Name == nil {
		return fmt.Sprintf("%q names no repository (an image ID or another value), so it can replace no image of the Dockerfile and the build "+
			"does not use it. Give the image's reference, e.g. the other resource's status.ref.", match.Map)
	}
	named := "The Dockerfile names no image (only stages or scratch)."
	if len(names) > 0 {
		named = "The Dockerfile names: " + strings.Join(names, "; ") + "."
	}
	return fmt.Sprintf("No FROM, COPY --from or RUN --mount from= of the Dockerfile names the repository %s (that an earlier map does not "+
		"already replace), so the build does not use %q. %s Write the map's repository in the Dockerfile, e.g. FROM %s, or remove the map.",
		imageref.Familiar(match.Name), match.Map, named, imageref.Familiar(match.Name))
}
