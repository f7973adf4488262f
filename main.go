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

// gcPercent is the garbage collector's GOGC, unless the user set GOGC. A
// request makes megabytes of short-lived garbage (terraform-plugin-framework
// copies the schema's attribute map at each step of each value's path) over
// a live heap of a few megabytes, so GOGC=100 collects several times per
// request. 200 collects half as often: 15% less CPU per resource in a plan
// (BenchmarkResourcePlanRequests). 400 saves 30% but lets an apply's heap
// grow past the memory target, and a soft memory limit instead makes the
// digest of a large context slower than GOGC=100 (200,000 files: 1.00 s
// against 0.75 s, 331 collections), as its live heap nears the limit.
const gcPercent = 200

func collectGarbageLessOften() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
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
