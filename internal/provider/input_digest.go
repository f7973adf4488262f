package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
)

// inputDigestOf digests the arguments that determine a build.
func inputDigestOf(ctx context.Context, plan *dockerImageModel, opts dockerbuild.Options) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode(map[string]any{
		"ref":        plan.Ref.ValueString(),
		"context":    opts.ContextDir,
		"dockerfile": opts.DockerfileContents,
		"args":       opts.BuildArgs,
		"cache_from": opts.CacheFrom,
		"extra_tags": listStrings(ctx, plan.ExtraTags),
		"network":    opts.Network,
		"platform":   opts.Platform,
		"pull":       opts.Pull,
		"secrets":    opts.Secrets,
		"ssh":        opts.SSH,
		"target":     opts.Target,
		"image_maps": listStrings(ctx, plan.ImageMaps),
	})
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
