package engine

import (
	"context"
	"fmt"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"
)

// InspectImage returns the ID of the image ref names; found is false when the
// engine has no such image.
func (e *Engine) InspectImage(ctx context.Context, ref string) (id string, found bool, err error) {
	c, err := e.Client()
	if err != nil {
		return "", false, err
	}
	inspect, err := c.ImageInspect(ctx, ref)
	if errdefs.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, e.Wrap(fmt.Errorf("inspecting image %s: %w", ref, err))
	}
	return inspect.ID, true, nil
}

// Tag names the image imageID as ref.
func (e *Engine) Tag(ctx context.Context, imageID, ref string) error {
	c, err := e.Client()
	if err != nil {
		return err
	}
	if err := c.ImageTag(ctx, imageID, ref); err != nil {
		return e.Wrap(fmt.Errorf("tagging image %s as %s: %w", imageID, ref, err))
	}
	return nil
}

// Untag removes the name ref, which must be a tagged reference: never an
// image ID or digest, which would name the image itself. The image's layers
// stay while other names use them; a name that is already gone is not an
// error. It is not forced: the last name of an image that a container uses
// stays, and the error says so (InUse).
func (e *Engine) Untag(ctx context.Context, ref string) error {
	if err := CheckTagName(ref); err != nil {
		return err
	}
	c, err := e.Client()
	if err != nil {
		return err
	}
	_, err = c.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
	if err == nil || errdefs.IsNotFound(err) {
		return nil
	}
	// Another removal of the image's last names may have deleted it
	// meanwhile ("unrecognized image ID"): the name is gone all the same.
	if _, found, inspectErr := e.InspectImage(ctx, ref); inspectErr == nil && !found {
		return nil
	}
	return e.Wrap(fmt.Errorf("removing tag %s: %w", ref, err))
}

// InUse says whether err is the engine's refusal to remove the last name of
// an image that a container uses.
func InUse(err error) bool {
	return errdefs.IsConflict(err)
}

// CheckTagName refuses anything but "name:tag": a record in private state
// is data, and an ID there must not remove another image. ("sha256:<hex>"
// parses as the repository "sha256" with a tag, but the engine reads it as
// an image ID.)
func CheckTagName(ref string) error {
	refused := fmt.Errorf("refusing to remove %q: only a tagged reference (name:tag) that the provider created is removed", ref)
	if any, err := reference.ParseAnyReference(ref); err != nil {
		return refused
	} else if _, isName := any.(reference.Named); !isName {
		return refused
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil || reference.FamiliarName(named) == "sha256" {
		return refused
	}
	if _, digested := named.(reference.Digested); digested {
		return refused
	}
	if _, tagged := named.(reference.NamedTagged); !tagged {
		return refused
	}
	return nil
}

// UntagIf removes the name ref only while it still names the image imageID:
// a name that another build or a person has moved since is left alone.
func (e *Engine) UntagIf(ctx context.Context, ref, imageID string) error {
	id, found, err := e.InspectImage(ctx, ref)
	if err != nil || !found || id != imageID {
		return err
	}
	return e.Untag(ctx, ref)
}
