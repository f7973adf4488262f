//go:build !linux

package buildcontext

import "context"

// canWalkPlain: elsewhere every tree is walked with fsutil.
const canWalkPlain = false

func (r *digestRun) walkPlainUnit(context.Context, walkUnit, skipSet, *[]*entry, chan<- *entry) error {
	panic("walkPlainUnit without canWalkPlain")
}
