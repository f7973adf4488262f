package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/distribution/reference"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/cmdbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/engine"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/redact"
)

// cmdImageKind is imagebuild_cmd_image: any command that builds an image,
// whose result is found, named and pushed as Tilt's custom builder does.
type cmdImageKind struct{}

type cmdImageModel struct {
	imageModel
	Args              types.List   `tfsdk:"args"`
	Dir               types.String `tfsdk:"dir"`
	Env               types.Map    `tfsdk:"env"`
	Deps              types.List   `tfsdk:"deps"`
	Ignore            types.List   `tfsdk:"ignore"`
	OutputMode        types.String `tfsdk:"output_mode"`
	OutputTag         types.String `tfsdk:"output_tag"`
	OutputsImageRefTo types.String `tfsdk:"outputs_image_ref_to"`
	SecretEnv         types.Map    `tfsdk:"secret_env"`
	SecretEnvVersion  types.String `tfsdk:"secret_env_version"`
}

func (cmdImageKind) typeName() string    { return "_cmd_image" }
func (cmdImageKind) withStages() bool    { return false }
func (cmdImageKind) newModel() kindModel { return &cmdImageModel{} }

func (cmdImageKind) schema(context.Context) schema.Schema {
	return schema.Schema{
		Description: "Builds an image with any command (docker, ko, bazel, nix, buildpacks, a script) during apply, then finds, " +
			"retags and, if the cluster needs it, pushes the result. The Terraform form of Tilt's CmdImage object. " +
			"The command gets `EXPECTED_REF`, `EXPECTED_IMAGE`, `EXPECTED_TAG`, `EXPECTED_REGISTRY`, `REGISTRY_HOST`, `DOCKER_HOST` " +
			"and `TILT_IMAGE_MAP_<i>`/`TILT_IMAGE_<i>` in its environment. Whenever the cluster needs a push, the registry holds " +
			"`status.ref` and `repo_digest` names it there by digest. The provider removes only the tags it created, and only while " +
			"they still name its image; a failed build leaves no tag, and a failed update leaves every tag where it was.",
		Attributes: map[string]schema.Attribute{
			"ref": schema.StringAttribute{
				Required: true,
				Description: "Repository the command builds, e.g. `myapp` or `ghcr.io/acme/myapp`. No digest. A ref that names a registry " +
					"is pushed there when `cluster_needs` is `push` (the default), even with no provider `cluster` block.",
				Validators: []validator.String{repositoryValidator()},
			},
			"args": schema.ListAttribute{
				Required:    true,
				ElementType: types.StringType,
				Description: "The command and its arguments, executed directly (no shell); use `[\"sh\", \"-c\", \"...\"]` for one.",
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1)),
				},
			},
			"dir": schema.StringAttribute{
				Optional:    true,
				Description: "Working directory of the command; default Terraform's working directory. It must exist at plan time.",
				Validators:  []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"env": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Environment variables for the command, on top of Terraform's own.",
				Validators:  []validator.Map{mapvalidator.KeysAre(stringCheck{"environment variable name", cmdbuild.ValidEnvKey})},
			},
			"secret_env": schema.MapAttribute{
				Optional:    true,
				Sensitive:   true,
				WriteOnly:   true,
				ElementType: types.StringType,
				Description: "Secret environment variables for the command (a token for a registry or a package index), set after `env`. " +
					"Write-only (Terraform 1.11+, OpenTofu 1.11+): never in plan or state, and no digest of them either (a digest could be " +
					"tried against guesses); their values are masked (`****`) in every log line and in the output tail of an error. A change " +
					"of them alone rebuilds nothing: change `secret_env_version` to rebuild.",
				Validators: []validator.Map{mapvalidator.KeysAre(stringCheck{"environment variable name", cmdbuild.ValidEnvKey})},
			},
			"secret_env_version": schema.StringAttribute{
				Optional: true,
				Description: "Any string (or number) that stands for the values of `secret_env`: a change rebuilds the image, " +
					"as the values themselves cannot be compared.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"deps": stringListAttribute("Files and directories whose contents feed `input_digest`: a change in them rebuilds the image. "+
				"A relative path is taken from `dir` when it is set. Only regular files and directories are read: a FIFO, device or socket "+
				"named here is refused at plan (inside a directory such entries are skipped). A directory's `.git/` and what Terraform and OpenTofu write in their "+
				"working directory (`terraform.tfstate`, `terraform.tfstate.backup`, `terraform.tfstate.d/`, `.terraform/`, "+
				"`.terraform.tfstate.lock.info`, `crash.log`), at any depth, and a saved plan (`terraform plan -out=FILE`) in Terraform's working "+
				"directory are never digested: a fetch or an apply rebuilds nothing.",
				stringvalidator.LengthAtLeast(1)),
			"ignore": stringListAttribute("Patterns, in `.dockerignore` syntax, of files in the `deps` directories that are not digested: "+
				"a change in them rebuilds nothing. As Tilt's `custom_build` `ignore`, each pattern is matched relative to each directory "+
				"of `deps` (`[\"dist\", \"**/*.log\"]` leaves out `<dep>/dist` and every `.log` file in each dep directory); a file named "+
				"in `deps` itself is always digested. The command still sees every file: `ignore` only decides what rebuilds.",
				stringCheck{"ignore pattern", func(p string) error {
					if err := buildcontext.CheckPatterns([]string{p}); err != nil {
						return fmt.Errorf("%w; write a .dockerignore pattern such as \"*.log\", \"dist\" or \"**/testdata\"", err)
					}
					return nil
				}}),
			"image_maps": stringListAttribute("References of images this build depends on, usually other resources' `status.ref`; "+
				"exported as `TILT_IMAGE_MAP_<i>` and `TILT_IMAGE_<i>`. A change in any of them rebuilds this image.",
				imageMapValidator()),
			"output_mode": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(cmdbuild.LocalDocker)),
				Description: "Where the command leaves the image. `local-docker` (default): in the engine; the provider tags it `status.ref` " +
					"and pushes that when the cluster needs a push. `local-docker-and-remote`: in the engine and pushed by the command to `EXPECTED_REF`; " +
					"the provider tags it `status.ref` and pushes that tag too (the registry has the layers), so the registry holds `status.ref`. " +
					"`remote`: only in a registry, where the command pushed `EXPECTED_REF`; the provider never looks in the engine: it resolves " +
					"the manifest's digest through the registry's API (with the credentials of a push), tags it there with its immutable " +
					"`tf-<16 hex of the digest>` tag, and records that as `status.ref`, with `repo_digest`.",
				Validators: []validator.String{stringvalidator.OneOf(cmdbuild.OutputModes...)},
			},
			"output_tag": schema.StringAttribute{
				Optional: true,
				Description: "Tag the command produces. The command then knows nothing of the registry: `EXPECTED_REF` is the repository " +
					"as written (never moved into the cluster's registry, in every `output_mode`) with this tag, and the provider adds the " +
					"registry when it names the image; in `remote` mode the image is looked for where the command pushed it. Without it " +
					"`EXPECTED_REF` is the repository in the cluster's registry with a fresh tag, `tf-build-<unix seconds>-<8 hex>`, unique " +
					"to the build (parallel builds never collide), which the provider removes from the engine once it has named the image.",
				Validators: []validator.String{
					tagValidator(),
					stringvalidator.ConflictsWith(path.MatchRoot("outputs_image_ref_to")),
				},
			},
			"outputs_image_ref_to": schema.StringAttribute{
				Optional: true,
				Description: "File the command writes the tagged ref of its image into (a relative path is taken from `dir` when it is set). It is removed before the command runs; " +
					"`EXPECTED_REF`, `EXPECTED_IMAGE` and `EXPECTED_TAG` are then not set.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"image_id": schema.StringAttribute{Computed: true, Description: "ID of the built image; null in `remote` mode."},
		},
	}
}

func tagValidator() validator.String {
	return stringCheck{"tag", func(tag string) error {
		if tag == "" || reference.TagRegexp.FindString(tag) != tag {
			return fmt.Errorf("%q is not a valid tag: write up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", tag)
		}
		return nil
	}}
}

// checkPlan checks that dir and deps exist, which validate must not need.
func (cmdImageKind) checkPlan(ctx context.Context, model kindModel, diags *diag.Diagnostics) {
	m := model.(*cmdImageModel)
	if !m.Dir.IsNull() && !m.Dir.IsUnknown() {
		dir := m.Dir.ValueString()
		if info, err := os.Stat(dir); err != nil {
			diags.AddAttributeError(path.Root("dir"), "Working directory not found",
				fmt.Sprintf("%v; write an existing directory (a relative path is taken from %s).", err, workingDir()))
		} else if !info.IsDir() {
			diags.AddAttributeError(path.Root("dir"), "Working directory is not a directory",
				fmt.Sprintf("%s is not a directory; write the directory the command runs in.", dir))
		}
	}
	if m.Deps.IsUnknown() {
		return
	}
	for i, e := range m.Deps.Elements() {
		dep, ok := e.(types.String)
		if !ok || dep.IsNull() || dep.IsUnknown() {
			continue
		}
		p := inDir(m.Dir, dep.ValueString())
		if _, err := os.Lstat(p); err != nil {
			diags.AddAttributeError(path.Root("deps").AtListIndex(i), "Dependency not found",
				fmt.Sprintf("%v. deps lists files and directories whose contents feed the digest; write paths that exist (a relative path is taken from %s).",
					err, relativeBase(m.Dir)))
		} else if err := buildcontext.CheckFileOrDir(p); err != nil {
			diags.AddAttributeError(path.Root("deps").AtListIndex(i), "Dependency is not a file or directory",
				fmt.Sprintf("%v. deps lists files and directories whose contents feed the digest; remove %s from deps.", err, dep.ValueString()))
		}
	}
}

// inputs digests the command, its environment and directory, the mode and
// tag settings, the cluster, the contents of deps and the image maps; of
// secret_env only its version, never the values.
func (cmdImageKind) inputs(ctx context.Context, data *providerData, model kindModel, cluster Cluster) (buildInputs, diag.Diagnostics) {
	var diags diag.Diagnostics
	m := model.(*cmdImageModel)
	if !allKnown(m.Ref, m.Args, m.Dir, m.Env, m.Deps, m.Ignore, m.ClusterNeeds, m.ImageMaps, m.OutputMode, m.OutputTag,
		m.OutputsImageRefTo, m.Triggers, m.SecretEnvVersion) {
		return nil, nil
	}
	in := buildInputs{}
	in.addString("ref", m.Ref, "")
	in.addList(ctx, "args", m.Args)
	in.addString("dir", m.Dir, "")
	in.addMap(ctx, "env", m.Env)
	in.addString("cluster_needs", m.ClusterNeeds, clusterNeedsPush)
	in.addList(ctx, "image_maps", m.ImageMaps)
	in.addString("output_mode", m.OutputMode, string(cmdbuild.LocalDocker))
	in.addString("output_tag", m.OutputTag, "")
	in.addString("outputs_image_ref_to", m.OutputsImageRefTo, "")
	in.addMap(ctx, "triggers", m.Triggers)
	in.addString("secret_env_version", m.SecretEnvVersion, "")
	in.addCluster(cluster)
	written := listStrings(ctx, m.Deps)
	if deps := inDirAll(m.Dir, written); len(deps) > 0 {
		tree, err := data.digesterFor(ctx).PathsTree(ctx, deps, written, listStrings(ctx, m.Ignore))
		if err != nil {
			diags.AddAttributeError(path.Root("deps"), "Cannot read the build's deps", err.Error())
			return nil, diags
		}
		in[depsInput] = tree.Digest
		m.addListing(depsInput, tree.Listing)
	}
	return in, diags
}

// fixedNames: the tag written in ref, as for docker_image.
func (cmdImageKind) fixedNames(_ context.Context, _ kindModel, target buildTarget) ([]string, error) {
	return refTagName(target)
}

// reuseBlocker: secret_env values reach the command but the digest only
// through a key of this resource's own.
func (cmdImageKind) reuseBlocker(ctx context.Context, _, config kindModel) string {
	if len(mapStrings(ctx, config.(*cmdImageModel).SecretEnv)) > 0 {
		return "secret_env"
	}
	return ""
}

func (cmdImageKind) newBuilder(ctx context.Context, data *providerData, model, config kindModel, target buildTarget) (imageBuilder, error) {
	m := model.(*cmdImageModel)
	env := mapStrings(ctx, m.Env)
	secrets := mapStrings(ctx, config.(*cmdImageModel).SecretEnv)
	values := make([]string, 0, len(secrets))
	for k, v := range secrets {
		if env == nil {
			env = map[string]string{}
		}
		env[k] = v
		values = append(values, v)
	}
	vars := cmdbuild.ExpectedVars{
		RegistryHost: target.cluster.RegistryHost,
		DockerHost:   data.engine.Host(),
		ImageMaps:    listStrings(ctx, m.ImageMaps),
	}
	if tls := data.engine.TLS(); tls.Enabled {
		vars.DockerCertPath, vars.DockerTLSVerify, vars.DockerTLS = tls.CertPath, tls.Verify, true
	}
	if name := data.engine.ContextName(); name != "" && !vars.DockerTLS {
		// The CLI context holds the TLS material; DOCKER_HOST alone lacks it.
		vars.DockerHost, vars.DockerContext = "", name
	}
	outputsRefTo := ""
	if !m.OutputsImageRefTo.IsNull() {
		outputsRefTo = inDir(m.Dir, m.OutputsImageRefTo.ValueString())
	}
	return commandBuild{engine: data.engine, spec: cmdbuild.Spec{
		Repo:             reference.TrimNamed(target.repo),
		ClusterRepo:      target.clusterRepo(),
		ClusterTagPrefix: target.placed.TagPrefix,
		Command: cmdbuild.Command{
			Args:    listStrings(ctx, m.Args),
			Dir:     m.Dir.ValueString(),
			LogLine: func(line string) { tflog.Info(ctx, line) },
			Redact:  redact.Values(values),
		},
		UserEnv:           env,
		BaseEnv:           os.Environ(),
		Vars:              vars,
		OutputMode:        cmdbuild.OutputMode(m.OutputMode.ValueString()),
		OutputTag:         m.OutputTag.ValueString(),
		OutputsImageRefTo: outputsRefTo,
	}}, nil
}

// inDir is path taken from dir when it is relative and dir is set, as the
// command sees it.
func inDir(dir types.String, path string) string {
	if dir.IsNull() || dir.IsUnknown() || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir.ValueString(), path)
}

// relativeBase is where a relative path is taken from, for messages.
func relativeBase(dir types.String) string {
	if dir.IsNull() || dir.IsUnknown() {
		return workingDir()
	}
	return dir.ValueString()
}

func inDirAll(dir types.String, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = inDir(dir, p)
	}
	return out
}

// commandBuild is a build by the user's command.
type commandBuild struct {
	engine *engine.Engine
	spec   cmdbuild.Spec
}

func (b commandBuild) build(ctx context.Context) (builtImage, error) {
	tflog.Info(ctx, "running build command", map[string]any{"args": b.spec.Command.Args, "dir": b.spec.Command.Dir})
	result, err := cmdbuild.Build(ctx, b.engine, b.spec, time.Now())
	built := builtImage{imageID: result.ImageID, ref: result.BuiltRef}
	if result.ScratchTag != "" {
		built.scratchTags = []string{result.ScratchTag}
	}
	if err != nil {
		built.imageID = ""
	}
	return built, err
}
