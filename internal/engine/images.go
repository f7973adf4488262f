package engine

import (
	"context"
	"fmt"

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

// Untag removes the name ref. The image's layers stay while other names or
// containers use them; a name that is already gone is not an error.
func (e *Engine) Untag(ctx context.Context, ref string) error {
	c, err := e.Client()
	if err != nil {
		return err
	}
	// Force only removes the name even when a container uses the image; the
	// daemon keeps the image itself for that container.
	_, err = c.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
	if err != nil && !errdefs.IsNotFound(err) {
		return e.Wrap(fmt.Errorf("removing tag %s: %w", ref, err))
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
