// Command terraform-provider-imagebuild is a Terraform provider that builds
// container images during apply.
package main

import (
	"context"
	"flag"
	"log"
	"os"
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

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/imagebuild/imagebuild",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
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
