// Command terraform-provider-imagebuild is a Terraform provider that builds
// container images during apply.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/provider"
)

// version is set by goreleaser at release time.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/imagebuild/imagebuild",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
