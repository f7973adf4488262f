package engine

import "testing"

func TestCheckTagName(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, ok := range []string{"app:v1", "localhost:5000/team/app:tf-0123456789abcdef", "docker.io/library/app:latest"} {
		if err := CheckTagName(ok); err != nil {
			t.Errorf("CheckTagName(%q) = %v, want ok", ok, err)
		}
	}
	for _, bad := range []string{"sha256:" + id, id, "sha256:0123", "0123abcd", "app", "app@sha256:" + id, "app:v1@sha256:" + id, "", "Bad:ref"} {
		if err := CheckTagName(bad); err == nil {
			t.Errorf("CheckTagName(%q) accepted it", bad)
		}
	}
}
