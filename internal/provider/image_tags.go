package provider

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/engine"
)

// tagRecord maps each tag a resource created in the engine to the image it
// named then. It is kept in private state: the resource removes a tag only
// while it still names that image, so a tag another resource or a person
// moved since is left alone.
type tagRecord map[string]string

const privateTagsKey = "tags/v1"

// readTags is the record in private state; ok is false for state written
// before the record existed.
func readTags(ctx context.Context, private privateGetter) (tagRecord, bool) {
	raw, diags := private.GetKey(ctx, privateTagsKey)
	if diags.HasError() || len(raw) == 0 {
		return nil, false
	}
	var rec tagRecord
	if json.Unmarshal(raw, &rec) != nil {
		return nil, false
	}
	return rec, true
}

func writeTags(ctx context.Context, private privateSetter, rec tagRecord) diag.Diagnostics {
	if rec == nil {
		rec = tagRecord{}
	}
	raw, _ := json.Marshal(rec)
	return private.SetKey(ctx, privateTagsKey, raw)
}

// removeTags removes each recorded tag that still names its image; an error
// becomes a warning or an error of diags, as failIsError says. A tag that the
// engine keeps because a container uses its image (a deployment not yet
// rolled over) is not an error: it is returned, to be removed by a later
// update or the destroy.
func removeTags(ctx context.Context, e *engine.Engine, rec tagRecord, keep tagRecord, diags *diag.Diagnostics, failIsError bool) tagRecord {
	inUse := tagRecord{}
	for name, imageID := range rec {
		if keep[name] == imageID && imageID != "" {
			continue
		}
		if err := engine.CheckTagName(name); err != nil {
			diags.AddWarning("Tag record ignored", err.Error()+"; the private state names it, but the provider never creates such a name.")
			continue
		}
		err := e.UntagIf(ctx, name, imageID)
		switch {
		case err == nil:
		case engine.InUse(err):
			tflog.Info(ctx, "a container uses the previous image; its tag stays until the next update or destroy", map[string]any{"tag": name})
			inUse[name] = imageID
		case failIsError:
			diags.AddError("Cannot remove an image tag", err.Error())
		default:
			diags.AddWarning("Could not remove the previous image tag", err.Error())
		}
	}
	return inUse
}

// tagging names one built image and remembers what each name named before,
// so that a build that fails after naming puts every name back.
type tagging struct {
	engine  *engine.Engine
	imageID string
	// owned is the record of the previous build: a name that already names
	// the image is the resource's only if it created it.
	owned tagRecord
	// created are the names this resource holds on the image now.
	created tagRecord
	// moved maps each name this build moved to the image it named before
	// ("" when it named none).
	moved map[string]string
}

func newTagging(e *engine.Engine, imageID string, owned tagRecord) *tagging {
	return &tagging{engine: e, imageID: imageID, owned: owned, created: tagRecord{}, moved: map[string]string{}}
}

// tag makes name name the image.
func (t *tagging) tag(ctx context.Context, name string) error {
	previous, found, err := t.engine.InspectImage(ctx, name)
	if err != nil {
		return err
	}
	if found && previous == t.imageID {
		if _, ours := t.owned[name]; ours {
			t.created[name] = t.imageID
		}
		return nil
	}
	if err := t.engine.Tag(ctx, t.imageID, name); err != nil {
		return err
	}
	t.moved[name] = previous
	t.created[name] = t.imageID
	return nil
}

// rollback puts every name this build moved back where it was.
func (t *tagging) rollback(ctx context.Context) {
	for name, previous := range t.moved {
		var err error
		if previous != "" {
			err = t.engine.Tag(ctx, previous, name)
		} else {
			err = t.engine.UntagIf(ctx, name, t.imageID)
		}
		if err != nil {
			tflog.Warn(ctx, "could not put a tag back after a failed build", map[string]any{"tag": name, "error": err.Error()})
		}
	}
	t.created = nil
}

// namesRegistry says whether ref, as written, names a registry: its first
// path component has a dot or a port, or is localhost (the rule by which
// distribution/reference splits off a domain).
func namesRegistry(ref string) bool {
	first, _, ok := strings.Cut(ref, "/")
	return ok && (strings.ContainsAny(first, ".:") || first == "localhost")
}
