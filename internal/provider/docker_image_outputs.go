package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
)

// Outputs and attestations of docker_image (issue 25): exports written
// beside the image, and SBOM attestations on builders.

// minExportsAPI is the first Engine API version whose BuildKit takes more
// than one exporter in a solve (BuildKit 0.13, Docker 26.0): the engine's
// own image exporter plus the exports. Docker 20.10 (API 1.41) reads only
// the first exporter and would drop the exports silently (checked); Docker
// 29 writes them (checked).
const minExportsAPI = "1.45"

func outputAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"attest_sbom": schema.BoolAttribute{
			Optional: true,
			Description: "SBOM attestation, as `--sbom=true`: BuildKit runs an SBOM generator over the build's result and pushes its " +
				"SPDX document as an attestation manifest beside the image, in an OCI index. BuildKit builders only (the Docker engine's " +
				"builds carry no attestations). Null or false: no SBOM.",
		},
		"sbom_generator": schema.StringAttribute{
			Optional: true,
			Description: "Image of the SBOM generator, as `--sbom=generator=IMAGE`: any image of BuildKit's SBOM generator protocol " +
				"(it writes an in-toto SPDX statement into `$BUILDKIT_SCAN_DESTINATION`). Null: BuildKit's default, " +
				"`docker/buildkit-syft-scanner:stable-1`, which the builder must be able to pull. Needs `attest_sbom = true`.",
			Validators: []validator.String{
				stringCheck{"image reference", func(s string) error {
					if _, err := reference.ParseNormalizedNamed(s); err != nil {
						return fmt.Errorf("%q is not an image reference (%v); write e.g. registry.example.com/tools/sbom-scanner:1", s, err)
					}
					return nil
				}},
				stringvalidator.AlsoRequires(path.MatchRoot("attest_sbom")),
			},
		},
		"exports": schema.ListAttribute{
			Optional:    true,
			ElementType: types.StringType,
			Description: "Build results also written on the machine that runs Terraform, beside the image, as `--output`: " +
				"`type=local,dest=DIR` (the files of the built stage, e.g. a Lambda zip that a `target` stage produced), " +
				"`type=tar,dest=FILE` (those files as a tarball) or `type=oci,dest=FILE` (the image as an OCI layout tarball). " +
				"A relative `dest` is taken from Terraform's working directory. Only the apply writes them, when it builds; they are an " +
				"input to nothing, and a plan does not look at them: a deleted export is not rebuilt (replace the resource, or change " +
				"`triggers`, to write it again). A change of `exports` rebuilds. A `dest` inside the build context is a plan warning " +
				"(unless `.dockerignore` leaves it out, each export would change the context and rebuild the next time). On the Docker " +
				"engine they need Docker 26.0 (API " + minExportsAPI + ") or later, and `type=oci` an engine with the containerd image store.",
			Validators: []validator.List{
				listvalidator.SizeAtLeast(1),
				listvalidator.ValueStringsAre(stringCheck{"export spec", func(s string) error {
					_, err := dockerbuild.ParseExport(s)
					return err
				}}),
			},
		},
	}
}

// addOutputInputs digests the output arguments that are set; null and
// false contribute nothing, so earlier states keep their digest.
func addOutputInputs(ctx context.Context, in buildInputs, m *dockerImageModel) {
	in.addBool("attest_sbom", m.AttestSBOM, false)
	in.addString("sbom_generator", m.SBOMGenerator, "")
	in.addList(ctx, "exports", m.Exports)
}

func outputInputsKnown(m *dockerImageModel) bool {
	return allKnown(m.AttestSBOM, m.SBOMGenerator, m.Exports)
}

// checkOutputs checks, at plan, that sbom_generator has an SBOM to make,
// and warns of an export written inside the build context, where it would
// change the next plan's inputs.
func checkOutputs(ctx context.Context, m *dockerImageModel, diags *diag.Diagnostics) {
	if !m.SBOMGenerator.IsNull() && !m.AttestSBOM.IsNull() && !m.AttestSBOM.IsUnknown() && !m.AttestSBOM.ValueBool() {
		diags.AddAttributeError(path.Root("sbom_generator"), "sbom_generator without an SBOM",
			"attest_sbom is false, so no generator runs: set attest_sbom = true, or remove sbom_generator.")
	}
	if m.Context.IsUnknown() || m.Exports.IsUnknown() {
		return
	}
	contextDir, err := filepath.Abs(m.Context.ValueString())
	if err != nil {
		return
	}
	for i, spec := range listStrings(ctx, m.Exports) {
		e, err := dockerbuild.ParseExport(spec)
		if err != nil {
			continue // the attribute's validator says it
		}
		dest, err := filepath.Abs(e.Dest)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(contextDir, dest); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			diags.AddAttributeWarning(path.Root("exports").AtListIndex(i), "Export inside the build context",
				fmt.Sprintf("%s lies inside the build context %s: unless .dockerignore leaves it out, the next plan sees the export as a "+
					"change of the context and rebuilds. Write a dest outside the context, or add %s to .dockerignore.", dest, contextDir, rel))
		}
	}
}

// checkOutputsProvider refuses, at plan, the SBOM on the engine path.
func checkOutputsProvider(m *dockerImageModel, diags *diag.Diagnostics) {
	if m.Builder.IsNull() && m.AttestSBOM.ValueBool() {
		diags.AddAttributeError(path.Root("attest_sbom"), "attest_sbom needs a BuildKit builder",
			"The Docker engine's builds carry no attestations: remove attest_sbom, or set builder to the name of a provider builder block.")
	}
}

// outputOptions sets the exports of opts.
func outputOptions(ctx context.Context, m *dockerImageModel, opts *dockerbuild.Options) error {
	exports, err := dockerbuild.ParseExports(listStrings(ctx, m.Exports))
	if err != nil {
		return err
	}
	opts.Exports = exports
	return nil
}

// exportsNeed is the engine feature that exports ask for.
func exportsNeed(opts dockerbuild.Options) []engineFeature {
	if len(opts.Exports) == 0 {
		return nil
	}
	return []engineFeature{{argument: "exports", why: "its BuildKit takes only the engine's own exporter and would drop the exports",
		instead: "or set builder to the name of a provider builder block, or remove exports", api: minExportsAPI, docker: "26.0"}}
}
