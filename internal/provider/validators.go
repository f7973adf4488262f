package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
)

var hostPattern = regexp.MustCompile(`^(unix|tcp|npipe|ssh|fd)://.+`)

// stringCheck adapts a function that checks one string into a validator, so
// every user string is checked by the same parser that later uses it.
type stringCheck struct {
	description string
	check       func(string) error
}

func (v stringCheck) Description(context.Context) string         { return v.description }
func (v stringCheck) MarkdownDescription(context.Context) string { return v.description }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.description, err.Error())
	}
}

func repositoryValidator() validator.String {
	return stringCheck{"image repository", func(s string) error {
		_, err := imageref.ParseRepository(s)
		return err
	}}
}

func imageMapValidator() validator.String {
	return stringCheck{"image map", imageref.ValidateImageMap}
}

func taggedRefValidator() validator.String {
	return stringCheck{"tagged image reference", func(s string) error {
		_, err := imageref.ParseTagged(s)
		return err
	}}
}

func registryHostValidator() validator.String {
	return stringCheck{"registry host", imageref.ValidateRegistryHost}
}

func buildArgValidator() validator.String {
	return stringCheck{"build arg", func(s string) error {
		_, _, err := dockerbuild.ParseBuildArg(s)
		return err
	}}
}

func secretValidator() validator.String {
	return stringCheck{"secret spec", dockerbuild.ValidateSecretSyntax}
}

func sshValidator() validator.String {
	return stringCheck{"SSH agent spec", func(s string) error {
		_, err := dockerbuild.ParseSSH([]string{s})
		return err
	}}
}

func platformValidator() validator.String {
	return stringCheck{"platform", dockerbuild.ValidatePlatform}
}

func networkValidator() validator.String {
	return stringCheck{"network", func(s string) error {
		switch s {
		case "default", "none", "host":
			return nil
		}
		return fmt.Errorf("%q is not a network BuildKit can build in; write \"default\", \"none\" or \"host\"", s)
	}}
}

type archValidator struct{}

func (archValidator) Description(context.Context) string {
	return "a CPU architecture such as amd64 or arm64"
}
func (v archValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (archValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	arch := req.ConfigValue.ValueString()
	if err := dockerbuild.ValidatePlatform("linux/" + arch); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid architecture",
			fmt.Sprintf("%q is not a CPU architecture; write one such as amd64, arm64 or arm/v7.", arch))
	}
}
