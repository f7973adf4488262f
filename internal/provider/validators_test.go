package provider

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/containerd/platforms"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/cmdbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
)

// validatorCase is a plan-time validator and what accepts the string at
// apply time, which must agree with it.
type validatorCase struct {
	name      string
	validator validator.String
	accepts   func(string) bool
}

func validatorCases(t testing.TB) []validatorCase {
	repo, err := imageref.ParseRepository("localhost:5000/app")
	if err != nil {
		t.Fatal(err)
	}
	noErr := func(check func(string) error) func(string) bool {
		return func(s string) bool { return check(s) == nil }
	}
	return []validatorCase{
		{"repository", repositoryValidator(), func(s string) bool { _, err := imageref.ParseRepository(s); return err == nil }},
		{"tagged ref", taggedRefValidator(), func(s string) bool { _, err := imageref.ParseTagged(s); return err == nil }},
		{"cache source", cacheFromValidator(), func(s string) bool { _, err := dockerbuild.ParseCacheFrom(s); return err == nil }},
		{"host entry", extraHostValidator(), func(s string) bool { _, err := dockerbuild.ParseExtraHost(s); return err == nil }},
		{"size", shmSizeValidator(), func(s string) bool { _, err := dockerbuild.ParseShmSize(s); return err == nil }},
		{"ulimit", ulimitValidator(), func(s string) bool { _, err := dockerbuild.ParseUlimit(s); return err == nil }},
		{"build arg", buildArgValidator(), func(s string) bool { _, _, err := dockerbuild.ParseBuildArg(s); return err == nil }},
		{"secret", secretValidator(), noErr(dockerbuild.ValidateSecretSyntax)},
		{"ssh", sshValidator(), func(s string) bool { _, err := dockerbuild.ParseSSH([]string{s}); return err == nil }},
		{"platform", platformValidator(), noErr(dockerbuild.ValidatePlatform)},
		{"network", networkValidator(), func(s string) bool { return slices.Contains([]string{"default", "none", "host"}, s) }},
		// output_tag: an accepted tag must make the ref the command is told to write.
		{"tag", tagValidator(), func(s string) bool {
			ref, err := cmdbuild.ExpectedRef(repo, s, cmdbuild.NewBuildTag(time.Now()))
			return s != "" && err == nil && ref.Tag() == s
		}},
		{"arch", archValidator{}, linuxArch},
	}
}

// linuxArch says whether arch makes a linux/<arch> platform that stays linux.
func linuxArch(arch string) bool {
	if dockerbuild.ValidatePlatform("linux/"+arch) != nil {
		return false
	}
	p, err := platforms.Parse("linux/" + arch)
	return err == nil && p.OS == "linux"
}

// FuzzValidators checks that each plan-time validator accepts exactly what
// its value's apply-time parser accepts, and explains what it rejects.
func FuzzValidators(f *testing.F) {
	for _, seed := range []string{
		"myapp", "localhost:5000/a/b:tag", "a@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"KEY=VALUE", "KEY", "=V", "A=B=C", "id=mysecret,src=/tmp/x", "env=FOO", "type=env,id=A", "default", "id=/a/b,/c",
		"linux/arm64/v8", "amd64", "arm/v7", "host", "none", "bridge", "v1.2", "-bad", ".x", "", " ", "linux", "Default",
		"type=registry,ref=r/app:cache", "type=local,src=/c", "db:10.0.0.5", "h:[fd00::5]", "h:host-gateway", "64m", "1g", "0", "nofile=1024:2048", "nproc=5",
	} {
		f.Add(seed)
	}
	cases := validatorCases(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range cases {
			var resp validator.StringResponse
			c.validator.ValidateString(context.Background(), validator.StringRequest{
				Path: path.Root("attr"), ConfigValue: types.StringValue(s),
			}, &resp)
			if rejected, accepts := resp.Diagnostics.HasError(), c.accepts(s); rejected == accepts {
				t.Errorf("%s validator on %q: rejected %v, but apply would accept it: %v", c.name, s, rejected, accepts)
			}
			for _, d := range resp.Diagnostics {
				if d.Summary() == "" || d.Detail() == "" {
					t.Errorf("%s validator on %q: diagnostic without summary or detail: %#v", c.name, s, d)
				}
			}
		}
	})
}
