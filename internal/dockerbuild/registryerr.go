package dockerbuild

import "regexp"

// refusedPull matches BuildKit's message for a registry that refused to
// serve an image (FROM, cache_from) for want of credentials.
var refusedPull = regexp.MustCompile(`pulling from host (\S+) failed with status code \[[^\]]*\]: (401 Unauthorized|403 Forbidden)`)

// RefusedRegistry returns the registry host that refused a build's pull for
// lack of (valid) credentials, if that is why the build failed.
func RefusedRegistry(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	m := refusedPull.FindStringSubmatch(err.Error())
	if m == nil {
		return "", false
	}
	return m[1], true
}
