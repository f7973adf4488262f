//go:build !linux

package buildcontext

import "context"

// canWalkPlain: elsewhere every tree is walked with fsutil.
const canWalkPlain = false

func (r *digestRun) plainUnitWalker(context.Context, skipSet, *ignoreRules, chan<- *entry) (func(walkUnit, *[]*entry) error, func()) {
	panic("plainUnitWalker without canWalkPlain")
}
