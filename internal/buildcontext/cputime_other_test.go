//go:build !unix

package buildcontext

import "time"

// processCPUTime is not measured here; the benchmarks report zero.
func processCPUTime() time.Duration { return 0 }
