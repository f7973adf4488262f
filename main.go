// Command terraform-provider-imagebuild is a Terraform provider that builds
// container images during apply.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/provider"
)

// version is set by goreleaser at release time.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	skipDiscardedSDKLogs()
	collectGarbageLessOften()
	if err := serve(debug); err != nil {
		log.Fatal(err)
	}
}

func serve(debug bool) error {
	if stop := profileCPU(os.Getenv("IMAGEBUILD_CPUPROFILE")); stop != nil {
		defer stop()
	}
	return providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/imagebuild/imagebuild",
		Debug:   debug,
	})
}

// skipDiscardedSDKLogs keeps the framework and protocol layers from
// formatting log lines that Terraform discards: it drops plugin lines below
// its own level (TF_LOG_PROVIDER, else TF_LOG; none when both are unset),
// yet those layers log every request at TRACE, a third of a plan's CPU with
// many resources. A level the user set for them is left as it is.
func skipDiscardedSDKLogs() {
	level := os.Getenv("TF_LOG_PROVIDER")
	if level == "" {
		level = os.Getenv("TF_LOG")
	}
	switch strings.ToUpper(level) {
	case "":
		level = "OFF"
	case "JSON":
		level = "TRACE"
	}
	for _, name := range []string{"TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO"} {
		if _, set := os.LookupEnv(name); !set {
			os.Setenv(name, level)
		}
	}
}

// Garbage collection settings, unless the user set GOGC or GOMEMLIMIT. A
// request makes megabytes of short-lived garbage (terraform-plugin-framework
// copies the schema's attribute map at each step of each value's path) over
// a live heap of a few megabytes, so the default GOGC=100 collects many
// times per request: a third of a plan's provider CPU. GOGC=400 collects a
// fifth as often; the soft limit collects sooner once the heap nears it, so
// that a process with much live data (an apply of many images) stays small.
const (
	gcPercent     = 400
	gcMemoryLimit = 48 << 20
)

func collectGarbageLessOften() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}

// profileCPU writes a CPU profile of this process to <prefix>.<pid> (one
// file per provider process Terraform starts), for the profiles in
// BENCHMARKS.md; "" profiles nothing. The returned function ends it.
func profileCPU(prefix string) func() {
	if prefix == "" {
		return nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid()))
	if err != nil {
		log.Printf("IMAGEBUILD_CPUPROFILE: %v", err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Printf("IMAGEBUILD_CPUPROFILE: %v", err)
		f.Close()
		return nil
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
