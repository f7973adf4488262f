package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
)

// Validators of the arguments of issue 16. None reads a file: whether a
// path exists is checkPlan's.

func cacheFromValidator() validator.String {
	return stringCheck{"cache source", func(s string) error {
		_, err := dockerbuild.ParseCacheFrom(s)
		return err
	}}
}

func extraHostValidator() validator.String {
	return stringCheck{"host entry", func(s string) error {
		_, err := dockerbuild.ParseExtraHost(s)
		return err
	}}
}

func shmSizeValidator() validator.String {
	return stringCheck{"size", func(s string) error {
		_, err := dockerbuild.ParseShmSize(s)
		return err
	}}
}

func ulimitValidator() validator.String {
	return stringCheck{"ulimit", func(s string) error {
		_, err := dockerbuild.ParseUlimit(s)
		return err
	}}
}

// buildContextsValidator checks each name and value of build_contexts, on
// the entry's own path.
type buildContextsValidator struct{}

func (buildContextsValidator) Description(context.Context) string {
	return "names the Dockerfile uses, each a local directory or docker-image://IMAGE"
}
func (v buildContextsValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (buildContextsValidator) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	elements := req.ConfigValue.Elements()
	names := make([]string, 0, len(elements))
	for name := range elements {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[string]string{}
	for _, name := range names {
		e := elements[name]
		reduced := dockerbuild.NamedContextName(name)
		if other, dup := seen[reduced]; dup {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(name), "Invalid build context",
				fmt.Sprintf("%q and %q name the same image, %q, for BuildKit: keep one of them.", other, name, reduced))
		}
		seen[reduced] = name
		if e.IsNull() || e.IsUnknown() {
			continue
		}
		value := strings.Trim(e.String(), `"`)
		if s, ok := e.(interface{ ValueString() string }); ok {
			value = s.ValueString()
		}
		if err := dockerbuild.ValidateNamedContext(name, value); err != nil {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(name), "Invalid build context", err.Error())
		}
	}
}

// mapKeysValidator checks each key of a map with check.
type mapKeysValidator struct {
	description string
	check       func(string) error
}

func (v mapKeysValidator) Description(context.Context) string         { return v.description }
func (v mapKeysValidator) MarkdownDescription(context.Context) string { return v.description }

func (v mapKeysValidator) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for key := range req.ConfigValue.Elements() {
		if err := v.check(key); err != nil {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(key), "Invalid "+v.description, err.Error())
		}
	}
}
