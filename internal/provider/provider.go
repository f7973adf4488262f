// Package provider is the Terraform surface of the imagebuild provider: the
// provider configuration, the resource schemas and their CRUD wiring. The
// build engines live in packages that know nothing of Terraform.
package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/engine"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/registry"
)

// DefaultClusterName is the cluster a resource builds for when it names none.
const DefaultClusterName = "default"

var _ provider.Provider = (*imagebuildProvider)(nil)

type imagebuildProvider struct {
	version string
}

// New returns a constructor for the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &imagebuildProvider{version: version}
	}
}

type providerModel struct {
	Host         types.String        `tfsdk:"host"`
	CertPath     types.String        `tfsdk:"cert_path"`
	SSHOpts      types.List          `tfsdk:"ssh_opts"`
	MaxBuilds    types.Int64         `tfsdk:"max_parallel_builds"`
	RegistryAuth []registryAuthModel `tfsdk:"registry_auth"`
	Clusters     []clusterModel      `tfsdk:"cluster"`
	Builders     []builderModel      `tfsdk:"builder"`
}

type registryAuthModel struct {
	Address  types.String `tfsdk:"address"`
	Username types.String `tfsdk:"username"`
	Password types.String `tfsdk:"password"`
}

type clusterModel struct {
	Name     types.String          `tfsdk:"name"`
	Arch     types.String          `tfsdk:"arch"`
	Registry *clusterRegistryModel `tfsdk:"registry"`
}

type clusterRegistryModel struct {
	Host            types.String `tfsdk:"host"`
	HostFromCluster types.String `tfsdk:"host_from_cluster"`
	SingleName      types.String `tfsdk:"single_name"`
}

// Cluster is what a resource needs to know of the cluster it builds for.
type Cluster struct {
	Name string
	// RegistryHost is where images are pushed, as seen from this machine; empty
	// when the cluster has no registry.
	RegistryHost string
	// RegistryHostFromCluster is the same registry as the cluster sees it.
	RegistryHostFromCluster string
	// SingleName, when set, is the one repository of the registry that
	// every image goes into (see imageref.Registry).
	SingleName string
	// Arch is the cluster's CPU architecture, e.g. amd64; empty means the engine's.
	Arch string
	// Unknown: the registry host or the arch is not known until apply (it
	// comes from another resource), so no digest that depends on it is.
	Unknown bool
	// FromClusterUnknown: host_from_cluster is not known until apply.
	FromClusterUnknown bool
}

// providerData is what Configure hands to every resource.
type providerData struct {
	engine      *engine.Engine
	clusters    map[string]Cluster
	credentials *registry.Credentials
	digester    buildcontext.Digester
	builders    builderSet
	// walks shares context walks within the plan walk (see walkMemo).
	walks *walkMemo
	// resolve looks base images up (pull = true); nil is registry.Resolve.
	resolve resolveFunc
	// buildSlots bounds the builds (digest, build, push) running at once.
	buildSlots *buildSlots
	// engineUnknown: the engine's address is not known until apply.
	engineUnknown bool
	// clusterNamesUnknown: some cluster block's name is not known until apply.
	clusterNamesUnknown bool
}

// cluster is the cluster that name (a resource's cluster argument) names.
// known is false when it, or what of it changes an image, is unknown until
// apply; naming no cluster block is an error on the attribute.
func (d *providerData) cluster(name types.String, diags *diag.Diagnostics) (c Cluster, known bool) {
	if name.IsUnknown() {
		return Cluster{}, false
	}
	c, ok := d.clusters[name.ValueString()]
	switch {
	case ok:
		return c, !c.Unknown
	case d.clusterNamesUnknown:
		return Cluster{}, false
	}
	diags.AddAttributeError(path.Root("cluster"), "Unknown cluster",
		fmt.Sprintf("No provider cluster block is named %q. Add a `cluster { name = %q }` block to the provider, or remove the argument to use %q.",
			name.ValueString(), name.ValueString(), DefaultClusterName))
	return Cluster{}, false
}

// digestCacheDir is where the digests of build inputs keep file hashes from
// one terraform command to the next; empty (no cache) if there is no user
// cache directory.
func digestCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "terraform-provider-imagebuild", "digests")
}

// refFromCluster is ref as the cluster's nodes pull it.
func (c Cluster) refFromCluster(ref string) types.String {
	if ref == "" {
		return types.StringNull()
	}
	return types.StringValue(imageref.AsSeenFromCluster(ref, c.RegistryHost, c.RegistryHostFromCluster))
}

// registry is where the cluster's images go; empty without a registry.
func (c Cluster) registry() imageref.Registry {
	return imageref.Registry{Host: c.RegistryHost, SingleName: c.SingleName}
}

func (p *imagebuildProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "imagebuild"
	resp.Version = p.version
}

func (p *imagebuildProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Builds container images during `terraform apply`, with the Docker Engine's BuildKit or with any command, " +
			"and records an immutable, content-addressed reference for other resources to use.",
		Attributes: map[string]schema.Attribute{
			"host": schema.StringAttribute{
				Optional: true,
				Description: "Address of the Docker Engine: `unix:///path`, `tcp://host:port` or `ssh://user@host`. " +
					"Defaults to `DOCKER_HOST`, else the Docker CLI's current context (`DOCKER_CONTEXT`, then `currentContext` in the CLI's " +
					"config file, read from `DOCKER_CONFIG` or `~/.docker`; its TLS material included), else the local socket. " +
					"With a `tcp://` address outside a CLI context, TLS is used as the Docker CLI uses it: when `cert_path` or " +
					"`DOCKER_CERT_PATH` is set (verifying the engine against its `ca.pem`), else when `DOCKER_TLS_VERIFY` is set (verifying), " +
					"else when `DOCKER_TLS` is set (not verifying), with the certificates in the CLI's configuration directory " +
					"(`DOCKER_CONFIG` or `~/.docker`); with TLS and no address, `tcp://localhost:2376`. " +
					"The engine is contacted on first use, never at configure time.",
				Validators: []validator.String{stringvalidator.RegexMatches(hostPattern,
					"must be a unix://, tcp://, npipe:// or ssh:// address, for example unix:///var/run/docker.sock or tcp://127.0.0.1:2376")},
			},
			"cert_path": schema.StringAttribute{
				Optional: true,
				Description: "Directory holding `ca.pem`, `cert.pem` and `key.pem` for a TLS engine: set, the provider speaks TLS to a " +
					"`tcp://` engine and verifies its certificate against `ca.pem`. Defaults to `DOCKER_CERT_PATH`, else, when " +
					"`DOCKER_TLS_VERIFY` or `DOCKER_TLS` is set, the Docker CLI's configuration directory (`DOCKER_CONFIG` or `~/.docker`). " +
					"Without `cert.pem` and `key.pem` there, no client certificate is sent. `imagebuild_cmd_image` commands get the same " +
					"settings as `DOCKER_HOST`, `DOCKER_CERT_PATH` and `DOCKER_TLS_VERIFY` (or `DOCKER_TLS`).",
			},
			"ssh_opts": schema.ListAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Extra arguments for the `ssh` command that reaches an `ssh://` host, for example " +
					"`[\"-i\", \"~/.ssh/builder\", \"-o\", \"StrictHostKeyChecking=accept-new\"]`. The remote user must be able to run `docker`.",
			},
			"max_parallel_builds": schema.Int64Attribute{
				Optional: true,
				Description: "How many builds (digest of the inputs, build, push) the provider runs at once, whatever " +
					"Terraform's `-parallelism`; the others wait, within their create or update timeout. Defaults to the number " +
					"of CPUs of the machine running Terraform, which digests and sends every build context and, with a local " +
					"engine, builds them: more builds at once only share those CPUs and multiply the memory that serving " +
					"contexts takes. Raise it for remote engines or BuildKit daemons with cores of their own.",
				Validators: []validator.Int64{int64validator.Between(1, 1024)},
			},
		},
		Blocks: map[string]schema.Block{
			"builder": builderBlock(),
			"registry_auth": schema.ListNestedBlock{
				Description: "Credentials for a registry. They take precedence over the Docker config file and its credential helpers.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"address": schema.StringAttribute{
							Required:    true,
							Description: "Registry host, e.g. `registry.example.com:5000`.",
							Validators:  []validator.String{stringvalidator.LengthAtLeast(1)},
						},
						"username": schema.StringAttribute{Required: true, Description: "User name."},
						"password": schema.StringAttribute{Required: true, Sensitive: true, Description: "Password or token."},
					},
				},
			},
			"cluster": schema.ListNestedBlock{
				Description: "A cluster that images are built for. Without any block, one cluster named `default` " +
					"with no registry and the engine's architecture is assumed.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"name": schema.StringAttribute{
							Required:    true,
							Description: "Name that resources give in their `cluster` argument.",
							Validators:  []validator.String{stringvalidator.LengthAtLeast(1)},
						},
						"arch": schema.StringAttribute{
							Optional:    true,
							Description: "CPU architecture of the cluster's nodes, e.g. `amd64` or `arm64`; builds target `linux/<arch>` when `platform` is empty.",
							Validators:  []validator.String{archValidator{}},
						},
					},
					Blocks: map[string]schema.Block{
						"registry": schema.SingleNestedBlock{
							Description: "Registry that the cluster pulls from.",
							Attributes: map[string]schema.Attribute{
								"host": schema.StringAttribute{
									Optional: true,
									Description: "Registry as seen from this machine: a host with an optional port and path, e.g. `localhost:5000`, " +
										"`123456789012.dkr.ecr.eu-west-1.amazonaws.com`, `gcr.io/my-project` or `us-docker.pkg.dev/my-project/images` " +
										"(as Tilt's `default_registry`). Images are pushed there: `ref` becomes `<host>/<ref with / : @ replaced by _>` " +
										"(`gcr.io/team/api` in `localhost:5000` is `localhost:5000/gcr.io_team_api`) unless it already starts with `<host>/`.",
									Validators: []validator.String{registryHostValidator()},
								},
								"single_name": schema.StringAttribute{
									Optional: true,
									Description: "One repository of the registry for every image, as Tilt's `single_name` (for registries such as ECR " +
										"whose repositories must be created first): `ref` becomes `<host>/<single_name>` and each tag starts with the " +
										"last part of the image's name, e.g. `team/api` gets `<host>/<single_name>:api-tf-<16 hex>`.",
									Validators: []validator.String{
										stringCheck{"repository path", imageref.ValidateSingleName},
										stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("host")),
									},
								},
								"host_from_cluster": schema.StringAttribute{
									Optional: true,
									Description: "Registry as the cluster's nodes see it, when it differs from `host` (KIND: `kind-registry:5000`), " +
										"with the same path as `host` if any. The resources' `cluster_ref` uses it.",
									Validators: []validator.String{
										registryHostValidator(),
										stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("host")),
									},
								},
							},
						},
					},
				},
			},
		},
	}
}

func (p *imagebuildProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var config providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	data := &providerData{
		engine: engine.New(engine.Config{
			Host:     config.Host.ValueString(),
			CertPath: config.CertPath.ValueString(),
			SSHOpts:  listStrings(ctx, config.SSHOpts),
		}),
		clusters:      map[string]Cluster{DefaultClusterName: {Name: DefaultClusterName}},
		digester:      buildcontext.Digester{CacheDir: digestCacheDir()},
		walks:         newWalkMemo(),
		buildSlots:    newBuildSlots(int(config.MaxBuilds.ValueInt64())),
		engineUnknown: config.Host.IsUnknown() || config.CertPath.IsUnknown() || config.SSHOpts.IsUnknown(),
	}
	for i, c := range config.Clusters {
		if c.Name.IsUnknown() {
			data.clusterNamesUnknown = true
			continue
		}
		name := c.Name.ValueString()
		if i > 0 && containsCluster(config.Clusters[:i], name) {
			resp.Diagnostics.AddAttributeError(path.Root("cluster").AtListIndex(i).AtName("name"),
				"Duplicate cluster name", fmt.Sprintf("A cluster named %q is already defined; give each cluster block its own name.", name))
			continue
		}
		cluster := Cluster{Name: name, Arch: c.Arch.ValueString(), Unknown: c.Arch.IsUnknown()}
		if c.Registry != nil {
			cluster.RegistryHost = c.Registry.Host.ValueString()
			cluster.RegistryHostFromCluster = c.Registry.HostFromCluster.ValueString()
			cluster.SingleName = c.Registry.SingleName.ValueString()
			cluster.Unknown = cluster.Unknown || c.Registry.Host.IsUnknown() || c.Registry.SingleName.IsUnknown()
			cluster.FromClusterUnknown = c.Registry.HostFromCluster.IsUnknown()
		}
		data.clusters[name] = cluster
	}
	var credentials []registry.Credential
	for _, a := range config.RegistryAuth {
		credentials = append(credentials, registry.Credential{
			Address:  a.Address.ValueString(),
			Username: a.Username.ValueString(),
			Password: a.Password.ValueString(),
		})
	}
	data.credentials = registry.NewCredentials(credentials)
	data.builders = configureBuilders(ctx, config.Builders, &resp.Diagnostics)

	resp.ResourceData = data
	resp.DataSourceData = data
}

func containsCluster(clusters []clusterModel, name string) bool {
	for _, c := range clusters {
		if c.Name.ValueString() == name {
			return true
		}
	}
	return false
}

func (p *imagebuildProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return &imageResource{kind: dockerImageKind{}} },
		func() resource.Resource { return &imageResource{kind: cmdImageKind{}} },
	}
}

func (p *imagebuildProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return nil
}

// providerDataOf is what Configure handed the resources; nil before the
// provider is configured (e.g. during validate).
func providerDataOf(req resource.ConfigureRequest, resp *resource.ConfigureResponse) *providerData {
	if req.ProviderData == nil {
		return nil
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("got %T; this is a bug in the provider", req.ProviderData))
	}
	return data
}
