package imageref

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"
)

var registryHostPattern = regexp.MustCompile(`^` + reference.DomainRegexp.String() + `$`)

// ValidateRegistryHost checks a registry host as it starts a reference:
// a host name or IP with an optional port and an optional path
// ("us-docker.pkg.dev/acme/images"), no scheme. A name without a dot or port
// other than localhost ("myregistry") is refused: references would read it
// as a path on Docker Hub.
func ValidateRegistryHost(host string) error {
	domain, _, _ := strings.Cut(host, "/")
	if registryHostPattern.MatchString(domain) {
		named, err := reference.ParseNormalizedNamed(host + "/x")
		if err == nil && reference.Domain(named) == domain && named.Name() == host+"/x" {
			return nil
		}
	}
	return fmt.Errorf("%q is not a registry host; write a host and optional port and path without a scheme, such as \"localhost:5000\", "+
		"\"kind-registry:5000\", \"registry.example.com\" or \"us-docker.pkg.dev/my-project/images\" (lower case, no trailing /)", host)
}

// ValidateSingleName checks a repository path that every image goes into.
func ValidateSingleName(name string) error {
	named, err := reference.ParseNormalizedNamed("localhost/" + name)
	if err != nil || named.Name() != "localhost/"+name {
		return fmt.Errorf("%q is not a repository path; write lower-case letters, digits and separators (. _ - /), e.g. \"images\" or \"team/images\"", name)
	}
	return nil
}
