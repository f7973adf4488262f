package dockerbuild

import (
	"encoding/csv"
	"errors"
	"os"
	"strings"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/redact"
)

// secretSource is where one `--secret` spec takes its value from.
type secretSource struct {
	id, file, env string
}

// parseSecretSource reads a spec the way buildctl does: env=NAME, or
// src=/source=PATH with type=env|file; a bare id=NAME is the variable NAME
// if it is set, else the file NAME.
func parseSecretSource(spec string) (secretSource, bool) {
	fields, err := csv.NewReader(strings.NewReader(spec)).Read()
	if err != nil {
		return secretSource{}, false
	}
	var s secretSource
	var typ, src string
	for _, field := range fields {
		key, value, _ := strings.Cut(field, "=")
		switch strings.ToLower(key) {
		case "type":
			typ = value
		case "id":
			s.id = value
		case "source", "src":
			src = value
		case "env":
			s.env = value
		}
	}
	switch {
	case s.env != "":
	case typ == "env":
		s.env = src
		if s.env == "" {
			s.env = s.id
		}
	case src != "":
		s.file = src
	default:
		if _, set := os.LookupEnv(s.id); set {
			s.env = s.id
		} else {
			s.file = s.id
		}
	}
	return s, true
}

// value is the secret's value as the build will see it; "" if unreadable.
func (s secretSource) value() string {
	if s.env != "" {
		return os.Getenv(s.env)
	}
	raw, err := os.ReadFile(s.file)
	if err != nil {
		return ""
	}
	return string(raw)
}

// secretRedactor masks the values of the build's secrets, and each of
// their lines, in text the build prints: a RUN step that echoes a secret
// must not carry it into logs, errors or state. Nil when there is nothing
// to mask.
func secretRedactor(specs []string, values map[string][]byte) *redact.Masker {
	var all []string
	for _, spec := range specs {
		if src, ok := parseSecretSource(spec); ok {
			all = append(all, src.value())
		}
	}
	for _, v := range values {
		all = append(all, string(v))
	}
	return redact.Values(all)
}

// redactResult masks secrets in what a build reports: stage names and
// errors, and the error with its output tail.
func redactResult(redact *redact.Masker, result *Result, err error) (*Result, error) {
	if redact == nil {
		return result, err
	}
	if result != nil {
		for i := range result.Stages {
			result.Stages[i].Name = redact.Replace(result.Stages[i].Name)
			result.Stages[i].Error = redact.Replace(result.Stages[i].Error)
		}
	}
	var buildErr *BuildError
	if errors.As(err, &buildErr) {
		buildErr.Step = redact.Replace(buildErr.Step)
		buildErr.Message = redact.Replace(buildErr.Message)
		for i, line := range buildErr.Tail {
			buildErr.Tail[i] = redact.Replace(line)
		}
		return result, err
	}
	if err != nil {
		if masked := redact.Replace(err.Error()); masked != err.Error() {
			return result, errors.New(masked)
		}
	}
	return result, err
}

// SecretID is the id of a `--secret` spec; "" when it does not parse.
func SecretID(spec string) string {
	src, ok := parseSecretSource(spec)
	if !ok {
		return ""
	}
	return src.id
}
