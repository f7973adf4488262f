package dockerbuild

import "regexp"

// refusedPull matches BuildKit's message for a registry that refused to
// serve an image (FROM, cache_from) for want of credentials: dockerd 20.10's
// ("pulling from host H failed with status code [...]: 401 Unauthorized"),
// and current BuildKit's, from containerd's resolver, as Docker 29 gives it
// ("unexpected status from HEAD request to http://H/v2/...: 401 Unauthorized").
var refusedPull = regexp.MustCompile(`(?:pulling from host (\S+) failed with status code \[[^\]]*\]|` +
	`unexpected status from [A-Z]+ request to https?://([^/\s]+)/\S*): (?:401 Unauthorized|403 Forbidden)`)

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
	if m[1] != "" {
		return m[1], true
	}
	return m[2], true
}
