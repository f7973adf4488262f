package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerfile"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/engine"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
)

// dockerImageKind is imagebuild_docker_image: a build by the Docker engine's
// BuildKit through a session.
type dockerImageKind struct{}

type dockerImageModel struct {
	imageModel
	Context            types.String `tfsdk:"context"`
	DockerfileContents types.String `tfsdk:"dockerfile_contents"`
	Args               types.List   `tfsdk:"args"`
	CacheFrom          types.List   `tfsdk:"cache_from"`
	ExtraTags          types.List   `tfsdk:"extra_tags"`
	Network            types.String `tfsdk:"network"`
	Platform           types.String `tfsdk:"platform"`
	Pull               types.Bool   `tfsdk:"pull"`
	Secrets            types.List   `tfsdk:"secrets"`
	SSHAgentConfigs    types.List   `tfsdk:"ssh_agent_configs"`
	Target             types.String `tfsdk:"target"`
	Builder            types.String `tfsdk:"builder"`
	Load               types.Bool   `tfsdk:"load"`
	Platforms          types.List   `tfsdk:"platforms"`
	CacheTo            types.List   `tfsdk:"cache_to"`
	AttestProvenance   types.String `tfsdk:"attest_provenance"`
	// Arguments the seed lacks (issue 16).
	Dockerfile            types.String `tfsdk:"dockerfile"`
	Labels                types.Map    `tfsdk:"labels"`
	NoCache               types.Bool   `tfsdk:"no_cache"`
	AddHosts              types.List   `tfsdk:"add_hosts"`
	ShmSize               types.String `tfsdk:"shm_size"`
	Ulimits               types.List   `tfsdk:"ulimits"`
	BuildContexts         types.Map    `tfsdk:"build_contexts"`
	SecretValuesWO        types.Map    `tfsdk:"secret_values_wo"`
	SecretValuesWOVersion types.String `tfsdk:"secret_values_wo_version"`
	// Outputs and attestations (issue 25).
	AttestSBOM    types.Bool   `tfsdk:"attest_sbom"`
	SBOMGenerator types.String `tfsdk:"sbom_generator"`
	Exports       types.List   `tfsdk:"exports"`
}

func (dockerImageKind) typeName() string    { return "_docker_image" }
func (dockerImageKind) withStages() bool    { return true }
func (dockerImageKind) newModel() kindModel { return &dockerImageModel{} }

func (dockerImageKind) schema(context.Context) schema.Schema {
	s := schema.Schema{
		Description: "Builds an image with the Docker Engine's BuildKit during apply, and records its immutable reference " +
			"in `status.ref`. The Terraform form of Tilt's DockerImage object. A change in any input (an argument, a file of the context " +
			"after `.dockerignore`, the Dockerfile, `triggers`) rebuilds the image in place; nothing else does.",
		Attributes: map[string]schema.Attribute{
			"ref": schema.StringAttribute{
				Required: true,
				Description: "Repository to build into, e.g. `myapp` or `registry.example.com/team/myapp`. No digest. " +
					"A tag, if given, is applied like an entry of `extra_tags`. A ref that names a registry (its first part has a `.` or `:`, " +
					"or is `localhost`) is pushed there when `cluster_needs` is `push` (the default), even with no provider `cluster` block; " +
					"a cluster with a registry moves the image into that registry instead.",
				Validators: []validator.String{repositoryValidator()},
			},
			"context": schema.StringAttribute{
				Required: true,
				Description: "Build context directory. A relative path is taken from Terraform's working directory. `<context>/.dockerignore` is honoured. " +
					"It must exist at plan time; a step of the same apply may change its files (see `triggers`). What Terraform and OpenTofu write " +
					"in their working directory (`terraform.tfstate`, `terraform.tfstate.backup`, `terraform.tfstate.d/`, `.terraform/`, " +
					"`.terraform.tfstate.lock.info`, `crash.log`) is never sent nor digested, at any depth and whatever `.dockerignore` says, " +
					"nor is a saved plan (`terraform plan -out=FILE`, any name) in Terraform's working directory, " +
					"so `context = path.module` beside the Dockerfile rebuilds nothing on each apply and the image holds no state. " +
					"A `.git` directory at the context's root that `.dockerignore` does not exclude is sent (so it is an input) and the plan warns.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"dockerfile_contents": schema.StringAttribute{
				Optional: true,
				Description: "The Dockerfile's text. When null, the file named by `dockerfile` is used, else `<context>/Dockerfile`. " +
					"A plan refuses a Dockerfile that BuildKit's parser refuses (an unknown instruction, a malformed one), naming its line, " +
					"unless a `# syntax=` line hands it to another frontend.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"dockerfile": schema.StringAttribute{
				Optional: true,
				Description: "Path of the Dockerfile, as `--file`; a relative path is taken from Terraform's working directory. It may lie " +
					"outside the context; a `<dockerfile>.dockerignore` beside it is used instead of `<context>/.dockerignore`, as BuildKit does. " +
					"It must exist at plan time. Conflicts with `dockerfile_contents`.",
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
					stringvalidator.ConflictsWith(path.MatchRoot("dockerfile_contents")),
				},
			},
			"labels": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Labels of the image, as `--label`, e.g. `{ \"org.opencontainers.image.source\" = \"https://github.com/team/api\" }`.",
				Validators: []validator.Map{mapKeysValidator{"label name", func(k string) error {
					if strings.TrimSpace(k) == "" {
						return fmt.Errorf("a label name is empty; write e.g. org.opencontainers.image.source")
					}
					return nil
				}}},
			},
			"no_cache": schema.BoolAttribute{
				Optional: true,
				Description: "Build every step afresh, as `--no-cache`. The image is still rebuilt only when an input changes " +
					"(or `triggers` say so); a rebuild then reuses no cached step.",
			},
			"add_hosts": stringListAttribute("Entries for `/etc/hosts` of `RUN` steps, as `--add-host`: `host:ip`, e.g. `db.internal:10.0.0.5`, "+
				"`v6.internal:[fd00::5]`, or `host:host-gateway` for the engine's host.", extraHostValidator()),
			"shm_size": schema.StringAttribute{
				Optional: true,
				Description: "Size of `/dev/shm` in `RUN` steps, as `--shm-size`: bytes (`67108864`) or with a unit (`64m`, `1g`). " +
					"Needs an engine of Docker 23.0 or later (API 1.42); older engines' BuildKit ignores it, so the build fails instead.",
				Validators: []validator.String{shmSizeValidator()},
			},
			"ulimits": stringListAttribute("Resource limits of `RUN` steps, as `--ulimit`: `name=soft[:hard]`, e.g. `nofile=1024:2048`. "+
				"Needs an engine of Docker 23.0 or later (API 1.42); older engines' BuildKit ignores them, so the build fails instead.", ulimitValidator()),
			"build_contexts": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Named contexts, as `--build-context`: a name that the Dockerfile uses (`COPY --from=NAME`, `FROM NAME`, or the image " +
					"such a name replaces, e.g. `golang:latest`, reduced as buildx does to the name BuildKit looks up: `golang`) mapped to a local directory (digested and filtered by its own `.dockerignore`, without Terraform's files as for `context`; a relative path is taken " +
					"from Terraform's working directory; it must exist at plan time) or to `docker-image://IMAGE`. Needs an engine of Docker 23.0 " +
					"or later (API 1.42): older engines' Dockerfile frontend has no named contexts.",
				Validators: []validator.Map{buildContextsValidator{}},
			},
			"secret_values_wo": schema.MapAttribute{
				Optional:    true,
				WriteOnly:   true,
				ElementType: types.StringType,
				Description: "Write-only secrets for `RUN --mount=type=secret,id=ID`: a map of ID to value, served next to `secrets` " +
					"(an ID may be in only one of the two). The values are never stored in plan or state and are masked in the build's output; " +
					"a change of them alone rebuilds nothing: change `secret_values_wo_version` to rebuild. Needs Terraform 1.11 or OpenTofu 1.11 or later.",
				Validators: []validator.Map{mapKeysValidator{"secret ID", validSecretID}},
			},
			"secret_values_wo_version": schema.StringAttribute{
				Optional: true,
				Description: "Any string (or number) that stands for the values of `secret_values_wo`: a change rebuilds the image, " +
					"as the values themselves cannot be compared.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"args": stringListAttribute("Build args, as `--build-arg`: `KEY=VALUE`, or `KEY` to take the value from Terraform's environment. "+
				"A `KEY` value feeds `input_digest` as a plain SHA-256, and build args stay in the image's history: they are not for "+
				"secrets (use `secrets` or `secret_values_wo`).",
				buildArgValidator()),
			"cache_from": stringListAttribute("Cache sources, as `--cache-from`: an image reference, or `type=registry,ref=IMAGE`. A registry image "+
				"needs inline cache metadata (build it with the arg `BUILDKIT_INLINE_CACHE=1`). Other types (`type=local,src=DIR`, `gha`, `s3`) "+
				"need a BuildKit builder; the Docker engine's builder refuses them at plan.", cacheFromValidator()),
			"extra_tags": stringListAttribute("More references to tag the image with, exactly as written (as `--tag`; never moved into the cluster's registry). "+
				"Those that name a registry (`ghcr.io/acme/api:v1`, `localhost:5000/api:dev`) are pushed with `status.ref` when the cluster needs a push. "+
				"Removed from the engine on destroy while they still name this resource's image.", taggedRefValidator()),
			"network": schema.StringAttribute{
				Optional:    true,
				Description: "Network for `RUN` steps, as `--network`: `default`, `none` or `host`.",
				Validators:  []validator.String{networkValidator()},
			},
			"platform": schema.StringAttribute{
				Optional:    true,
				Description: "Target platform, as `--platform`: `os/arch[/variant]`, e.g. `linux/amd64`. When null, the cluster's `arch` applies.",
				Validators:  []validator.String{platformValidator()},
			},
			"pull": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				Description: "Always build on the newest version of the base images, as `--pull`; then a base image pushed anew under its tag is a change. " +
					"At plan, each image the Dockerfile builds on (`FROM`, `COPY --from`, `RUN --mount=...,from=`, after substitution of the ARGs declared " +
					"before the first `FROM` with their defaults and `args`) is looked up in its registry, once per plan however many resources use it, " +
					"with the credentials of the build (Docker config, credential helpers, `registry_auth`), and the digest its tag names (for a " +
					"multi-platform image, its index's) goes into `input_digest`: a moved tag plans a rebuild with the reason `base image <ref> moved`. " +
					"Stages, `scratch`, references pinned by digest, references through an ARG without a value, and images replaced by `build_contexts` " +
					"or `image_maps` are not looked up. A registry that cannot be reached is a plan warning naming it; the digest recorded at the last " +
					"build stands and the plan goes on. Each build records its bases' digests (after an upgrade from a version that did not, bases are " +
					"compared from the image's next build on, so the upgrade rebuilds nothing). Use `pull = true` for scheduled security rebuilds: a plan run on a schedule rebuilds exactly the " +
					"images whose bases moved, with no `time_rotating` trigger. With `false` (the default) no registry is asked at plan and a moved base " +
					"rebuilds nothing. (On the containerd image store of Docker 29, BuildKit resolves `FROM` tags in the registry even without it, as " +
					"`docker build` does there.)",
			},
			"secrets": stringListAttribute("Secrets for `RUN --mount=type=secret`, as `--secret`: `id=NAME,src=PATH`, `id=NAME,env=VARIABLE` "+
				"or `id=NAME` (the variable or file named NAME). Only the specs are stored, never the values; as with `docker build`, "+
				"a new secret value alone does not rebuild the image. The files and variables are checked at plan, not by `terraform validate`.",
				secretValidator()),
			"ssh_agent_configs": stringListAttribute("SSH agents or keys for `RUN --mount=type=ssh`, as `--ssh`: `default` "+
				"(the agent at `$SSH_AUTH_SOCK`), `ID`, or `ID=PATH[,PATH]` (agent sockets or private keys). The sockets and keys "+
				"(or `$SSH_AUTH_SOCK`) are checked at plan, not by `terraform validate`.", sshValidator()),
			"target": schema.StringAttribute{
				Optional:    true,
				Description: "Stage of a multi-stage Dockerfile to build, as `--target`.",
				Validators:  []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"image_maps": stringListAttribute("References of images this build depends on, usually other resources' `status.ref`. "+
				"A change in any of them rebuilds this image. As Tilt injects image maps, each map replaces, for the build, every `FROM`, "+
				"`COPY --from` and `RUN --mount=...,from=` of the Dockerfile that names its repository (after substitution of the ARGs "+
				"before the first `FROM`, with their defaults and `args`; a tag or digest written there gives way): `FROM acme/base` "+
				"builds on `acme/base:tf-...` that another resource built. A map in the cluster's registry (`localhost:5000/acme_base:tf-...`) "+
				"also stands for the repository it was moved from (`acme/base`). Stage names, `scratch` and references that use an ARG "+
				"without a value are left alone. Only the Dockerfile sent to the build changes, not the file nor `input_digest`. "+
				"A known map that matches nothing (an image ID always does) is a plan warning.", imageMapValidator()),
			"image_id": schema.StringAttribute{Computed: true, Description: "ID of the built image (`sha256:...`); for a `builder`'s pushed image, its manifest or index digest."},
		},
	}
	for name, a := range builderAttributes() {
		s.Attributes[name] = a
	}
	for name, a := range outputAttributes() {
		s.Attributes[name] = a
	}
	return s
}

// validSecretID checks an ID of secret_values_wo, as RUN --mount names it.
func validSecretID(id string) error {
	if id == "" || strings.ContainsAny(id, ",= \t\n") {
		return fmt.Errorf("%q is not a secret ID; write a name without spaces, commas or \"=\", e.g. npm_token, and mount it with RUN --mount=type=secret,id=npm_token", id)
	}
	return nil
}

// checkPlan checks the context, the Dockerfile and the secrets' sources,
// which `terraform validate` must not need.
func (dockerImageKind) checkPlan(ctx context.Context, model kindModel, diags *diag.Diagnostics) {
	m := model.(*dockerImageModel)
	checkSecretSources(ctx, m.Secrets, diags)
	checkSSHSources(ctx, m.SSHAgentConfigs, diags)
	checkSurface(ctx, m, diags)
	checkOutputs(ctx, m, diags)
	if m.Context.IsUnknown() {
		return
	}
	dir := m.Context.ValueString()
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		diags.AddAttributeError(path.Root("context"), "Build context not found",
			fmt.Sprintf("%v. Write the path of a directory; a relative path is taken from %s.", err, workingDir()))
		return
	case !info.IsDir():
		diags.AddAttributeError(path.Root("context"), "Build context is not a directory",
			fmt.Sprintf("%s is a file. Write the directory that holds the files the Dockerfile copies.", dir))
		return
	}
	if m.DockerfileContents.IsNull() && m.Dockerfile.IsNull() {
		dockerfile := filepath.Join(dir, "Dockerfile")
		if _, err := os.Stat(dockerfile); err != nil {
			diags.AddAttributeError(path.Root("dockerfile_contents"), "No Dockerfile",
				fmt.Sprintf("%s does not exist (%v). Create it, or give the Dockerfile's text in dockerfile_contents.", dockerfile, err))
			return
		}
	}
	warnGitSent(m, dir, diags)
	checkDockerfileParses(m, dir, diags)
}

// checkDockerfileParses refuses, at plan, a Dockerfile that BuildKit's
// parser refuses (unless a syntax directive names another frontend), on the
// attribute that gives it, instead of failing the apply.
func checkDockerfileParses(m *dockerImageModel, contextDir string, diags *diag.Diagnostics) {
	if m.DockerfileContents.IsUnknown() || m.Dockerfile.IsUnknown() {
		return
	}
	text, file, attr, err := m.dockerfileSource(contextDir)
	if err != nil {
		return // checkPlan and checkSurface say that it is missing
	}
	if err := dockerfile.Check(text); err != nil {
		where := "dockerfile_contents"
		if file != "" {
			where = file
		}
		diags.AddAttributeError(path.Root(attr), "Dockerfile does not parse",
			fmt.Sprintf("BuildKit's Dockerfile parser refuses %s: %v. Correct that line; a Dockerfile for another frontend starts with a "+
				"`# syntax=IMAGE` line, which leaves it to that frontend.", where, err))
	}
}

// checkSSHSources checks that each known ssh_agent_configs entry's sockets
// and keys are there, on the entry's own path, as the build will read them.
func checkSSHSources(ctx context.Context, specs types.List, diags *diag.Diagnostics) {
	if specs.IsNull() || specs.IsUnknown() {
		return
	}
	for i, e := range specs.Elements() {
		s, ok := e.(types.String)
		if !ok || s.IsUnknown() || s.IsNull() {
			continue
		}
		if err := dockerbuild.ValidateSSH(s.ValueString()); err != nil {
			diags.AddAttributeError(path.Root("ssh_agent_configs").AtListIndex(i), "SSH agent or key not available", err.Error())
		}
	}
}

// warnGitSent warns when the context sends its .git directory: BuildKit
// sends it, so it is an input and a fetch or a commit rebuilds, though few
// Dockerfiles read it.
func warnGitSent(m *dockerImageModel, dir string, diags *diag.Diagnostics) {
	if m.Dockerfile.IsUnknown() || m.DockerfileContents.IsUnknown() {
		return
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	ignoreFile := m.contextIgnoreFile(abs)
	// An unreadable ignore file is the digest's error to report.
	if sent, err := buildcontext.SendsGit(abs, ignoreFile); err != nil || !sent {
		return
	}
	if ignoreFile == "" {
		ignoreFile = filepath.Join(dir, buildcontext.IgnoreFile)
	}
	diags.AddAttributeWarning(path.Root("context"), "The build context sends .git",
		fmt.Sprintf("%s is in the build context, so every commit or fetch rebuilds this image (BuildKit sends .git, so it is an input). "+
			"Unless the Dockerfile reads it, add the line `.git` to %s.", filepath.Join(dir, buildcontext.GitDir), ignoreFile))
}

// checkSecretSources checks that each known secret's file or environment
// variable is there, on the secret's own path.
func checkSecretSources(ctx context.Context, secrets types.List, diags *diag.Diagnostics) {
	if secrets.IsNull() || secrets.IsUnknown() {
		return
	}
	for i, e := range secrets.Elements() {
		s, ok := e.(types.String)
		if !ok || s.IsUnknown() || s.IsNull() {
			continue
		}
		if err := dockerbuild.ValidateSecret(s.ValueString()); err != nil {
			diags.AddAttributeError(path.Root("secrets").AtListIndex(i), "Secret not available", err.Error())
		}
	}
}

func workingDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "Terraform's working directory"
	}
	return wd
}

// inputs digests the arguments that are set, the cluster's registry and
// arch, the context's files, the Dockerfile and the values of bare KEY args.
func (dockerImageKind) inputs(ctx context.Context, data *providerData, model kindModel, cluster Cluster) (buildInputs, diag.Diagnostics) {
	var diags diag.Diagnostics
	m := model.(*dockerImageModel)
	if !allKnown(m.Ref, m.Context, m.DockerfileContents, m.Args, m.CacheFrom, m.ExtraTags, m.Network, m.Platform, m.Pull,
		m.Secrets, m.SSHAgentConfigs, m.Target, m.ClusterNeeds, m.ImageMaps, m.Triggers) || !m.surfaceKnown() || !builderInputsKnown(m) || !outputInputsKnown(m) {
		return nil, nil
	}
	in := buildInputs{}
	in.addString("ref", m.Ref, "")
	in.add("cache_from", canonicalCacheFrom(listStrings(ctx, m.CacheFrom)))
	in.addList(ctx, "extra_tags", m.ExtraTags)
	in.addString("network", m.Network, "")
	in.addString("platform", m.Platform, "")
	in.addBool("pull", m.Pull, false)
	in.addList(ctx, "secrets", m.Secrets)
	in.addList(ctx, "ssh_agent_configs", m.SSHAgentConfigs)
	in.addString("target", m.Target, "")
	in.addString("cluster_needs", m.ClusterNeeds, clusterNeedsPush)
	in.addList(ctx, "image_maps", m.ImageMaps)
	in.addMap(ctx, "triggers", m.Triggers)
	in.addCluster(cluster)
	addBuilderInputs(ctx, in, m)
	addOutputInputs(ctx, in, m)

	if !m.addSurfaceInputs(ctx, data, in, &diags) {
		return nil, diags
	}

	contextDir, err := filepath.Abs(m.Context.ValueString())
	if err == nil {
		var tree buildcontext.Tree
		tree, err = data.digesterFor(ctx).ContextTree(ctx, contextDir, m.contextIgnoreFile(contextDir))
		in[contextFilesInput] = tree.Digest
		m.addListing(contextFilesInput, tree.Listing)
	}
	if err != nil {
		diags.AddAttributeError(path.Root("context"), "Cannot read the build context", err.Error())
		return nil, diags
	}
	dockerfile := m.DockerfileContents.ValueString()
	if m.DockerfileContents.IsNull() {
		dockerfilePath, attr := filepath.Join(contextDir, "Dockerfile"), "dockerfile_contents"
		if !m.Dockerfile.IsNull() {
			dockerfilePath, attr = m.Dockerfile.ValueString(), "dockerfile"
		}
		raw, err := os.ReadFile(dockerfilePath)
		if err != nil {
			diags.AddAttributeError(path.Root(attr), "Cannot read the Dockerfile", err.Error())
			return nil, diags
		}
		dockerfile = string(raw)
		m.dockerfileRead = true
	}
	in.add("dockerfile", dockerfile)
	// Bare KEY args take their values from the environment, so those values
	// are inputs too.
	args, err := dockerbuild.ParseBuildArgs(listStrings(ctx, m.Args))
	if err != nil {
		diags.AddAttributeError(path.Root("args"), "Invalid build arg", err.Error())
		return nil, diags
	}
	if len(args) > 0 {
		in["args"] = digestOf(args)
	}
	if m.Pull.ValueBool() {
		addBaseImages(ctx, data, in, m, dockerfile, args, cluster, &diags)
	}
	return in, diags
}

// fixedNames are the tag in ref, on the repository in the cluster's
// registry, and the extra tags exactly as written (as `--tag`).
func (dockerImageKind) fixedNames(ctx context.Context, model kindModel, target buildTarget) ([]string, error) {
	m := model.(*dockerImageModel)
	names, err := refTagName(target)
	if err != nil {
		return nil, err
	}
	for _, extra := range listStrings(ctx, m.ExtraTags) {
		tagged, err := imageref.ParseTagged(extra)
		if err != nil {
			return nil, err
		}
		names = append(names, imageref.Familiar(tagged))
	}
	return names, nil
}

// reuseBlocker: secrets, write-only secret values and SSH agents reach the
// build but not the digest (only their ids and paths do); pull = true builds
// on whatever the base tag names now; load = true asks for the image in the
// engine, which an adopted image is not. Bare KEY args are fine: their values
// are digested. So is no_cache: it says how a build runs, not whether one
// runs, and the plan already skips a build when the inputs are unchanged.
func (dockerImageKind) reuseBlocker(ctx context.Context, model, config kindModel) string {
	m, c := model.(*dockerImageModel), config.(*dockerImageModel)
	switch {
	case len(listStrings(ctx, m.Secrets)) > 0:
		return "secrets"
	case !c.SecretValuesWO.IsNull() || !m.SecretValuesWOVersion.IsNull():
		return "secret_values_wo"
	case len(listStrings(ctx, m.SSHAgentConfigs)) > 0:
		return "ssh_agent_configs"
	case m.Pull.ValueBool():
		return "pull = true"
	case m.Load.ValueBool():
		return "load = true"
	}
	return ""
}

// refTagName is the tag written in ref, if any, applied where the images go
// in the cluster's registry.
func refTagName(target buildTarget) ([]string, error) {
	tagged, ok := target.repo.(reference.NamedTagged)
	if !ok {
		return nil, nil
	}
	name, err := target.placed.Tagged(tagged.Tag())
	if err != nil {
		return nil, err
	}
	return []string{name}, nil
}

func (dockerImageKind) newBuilder(ctx context.Context, data *providerData, model, config kindModel, target buildTarget) (imageBuilder, error) {
	m := model.(*dockerImageModel)
	contextDir, err := filepath.Abs(m.Context.ValueString())
	if err != nil {
		return nil, err
	}
	args, err := dockerbuild.ParseBuildArgs(listStrings(ctx, m.Args))
	if err != nil {
		return nil, err
	}
	platform := m.Platform.ValueString()
	if platform == "" && target.cluster.Arch != "" {
		platform = "linux/" + target.cluster.Arch
	}
	// A BuildKit builder takes every cache_from spec as written.
	cacheFrom := listStrings(ctx, m.CacheFrom)
	if m.Builder.IsNull() {
		if cacheFrom, err = engineCacheFrom(cacheFrom); err != nil {
			return nil, err
		}
	}
	opts := dockerbuild.Options{
		ContextDir: contextDir,
		BuildArgs:  args,
		CacheFrom:  cacheFrom,
		Network:    m.Network.ValueString(),
		Platform:   platform,
		Pull:       m.Pull.ValueBool(),
		Target:     m.Target.ValueString(),
		Secrets:    listStrings(ctx, m.Secrets),
		Auth:       data.credentials.BuildKitProvider(),
		SSH:        listStrings(ctx, m.SSHAgentConfigs),
		LogLine:    func(line string) { tflog.Info(ctx, line) },
	}
	if !m.DockerfileContents.IsNull() {
		contents := m.DockerfileContents.ValueString()
		opts.DockerfileContents = &contents
	}
	if err := m.surfaceOptions(ctx, config.(*dockerImageModel), &opts); err != nil {
		return nil, err
	}
	if err := injectImageMaps(ctx, m, &opts, target.cluster); err != nil {
		return nil, err
	}
	if err := outputOptions(ctx, m, &opts); err != nil {
		return nil, err
	}
	if !m.Builder.IsNull() {
		return newBuildkitBuild(ctx, data, m, opts, target)
	}
	opts = withEngineCacheTo(ctx, m, opts)
	return engineBuild{engine: data.engine, opts: opts, name: imageref.Familiar(target.clusterRepo()), needs: engineNeeds(opts)}, nil
}

// engineBuild is a build by the Docker engine's BuildKit.
type engineBuild struct {
	engine *engine.Engine
	opts   dockerbuild.Options
	name   string // the repository, for messages
	// needs are the arguments set that not every engine can honour.
	needs []engineFeature
}

func (b engineBuild) build(ctx context.Context) (builtImage, error) {
	client, err := b.engine.Client()
	if err != nil {
		return builtImage{}, fmt.Errorf("cannot connect to the Docker engine: %w", err)
	}
	if err := checkEngineSupports(ctx, b.engine, b.needs); err != nil {
		return builtImage{}, fmt.Errorf("building %s: %w", b.name, err)
	}
	tflog.Info(ctx, "building image", map[string]any{"ref": b.name, "context": b.opts.ContextDir})
	result, err := dockerbuild.NewBuilder(client, b.engine.Describe()).Build(ctx, b.opts)
	var built builtImage
	if result != nil {
		built.imageID = result.ImageID
		built.stages = stageStatuses(result.Stages)
	}
	if err != nil {
		built.imageID = ""
		err = fmt.Errorf("building %s: %w", b.name, err)
		if host, refused := dockerbuild.RefusedRegistry(err); refused {
			err = fmt.Errorf("%w\n\nRegistry %s refused the pull: give its credentials in a provider registry_auth block "+
				"(address = %q), or log in with `docker login %s`.", err, host, host, host)
		}
		return built, err
	}
	return built, nil
}

func stageStatuses(stages []dockerbuild.Stage) []stageStatusModel {
	out := make([]stageStatusModel, 0, len(stages))
	for _, s := range stages {
		out = append(out, stageStatusModel{
			Name:       types.StringValue(s.Name),
			Cached:     types.BoolValue(s.Cached),
			Error:      optionalString(s.Error),
			StartedAt:  optionalMicroTime(s.Started),
			FinishedAt: optionalMicroTime(s.Completed),
		})
	}
	return out
}
