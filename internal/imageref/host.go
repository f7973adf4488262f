package imageref

import (
	"fmt"
	"regexp"

	"github.com/distribution/reference"
)

var registryHostPattern = regexp.MustCompile(`^` + reference.DomainRegexp.String() + `$`)

// ValidateRegistryHost checks a registry host as it starts a reference:
// a host name or IP with an optional port, no scheme and no path. A name
// without a dot or port other than localhost ("myregistry") is refused:
// references would read it as a path on Docker Hub.
func ValidateRegistryHost(host string) error {
	if registryHostPattern.MatchString(host) {
		if named, err := reference.ParseNormalizedNamed(host + "/x"); err == nil && reference.Domain(named) == host {
			return nil
		}
	}
	return fmt.Errorf("%q is not a registry host; write a host and optional port without a scheme or path, such as \"localhost:5000\", "+
		"\"kind-registry:5000\" or \"registry.example.com\"", host)
}
