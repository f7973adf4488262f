package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestSkipDiscardedSDKLogs(t *testing.T) {
	for _, c := range []struct {
		name, tfLog, tfLogProvider, userFramework string
		wantFramework, wantProto                  string
	}{
		{name: "unset", wantFramework: "OFF", wantProto: "OFF"},
		{name: "TF_LOG", tfLog: "debug", wantFramework: "debug", wantProto: "debug"},
		{name: "TF_LOG_PROVIDER wins", tfLog: "trace", tfLogProvider: "warn", wantFramework: "warn", wantProto: "warn"},
		{name: "JSON is TRACE", tfLog: "json", wantFramework: "TRACE", wantProto: "TRACE"},
		{name: "the user's level stays", tfLog: "info", userFramework: "TRACE", wantFramework: "TRACE", wantProto: "info"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("TF_LOG", c.tfLog)
			t.Setenv("TF_LOG_PROVIDER", c.tfLogProvider)
			t.Setenv("TF_LOG_SDK_FRAMEWORK", c.userFramework)
			t.Setenv("TF_LOG_SDK_PROTO", "")
			os.Unsetenv("TF_LOG_SDK_PROTO")
			if c.userFramework == "" {
				os.Unsetenv("TF_LOG_SDK_FRAMEWORK")
			}
			skipDiscardedSDKLogs()
			if got := os.Getenv("TF_LOG_SDK_FRAMEWORK"); got != c.wantFramework {
				t.Errorf("TF_LOG_SDK_FRAMEWORK = %q, want %q", got, c.wantFramework)
			}
			if got := os.Getenv("TF_LOG_SDK_PROTO"); got != c.wantProto {
				t.Errorf("TF_LOG_SDK_PROTO = %q, want %q", got, c.wantProto)
			}
		})
	}
}

func TestCollectGarbageLessOften(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	collectGarbageLessOften()
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GOGC unset: percent %d, want %d", got, gcPercent)
	}
	t.Setenv("GOGC", "100")
	collectGarbageLessOften()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=100 set by the user: percent %d, want it left at 100", got)
	}
}

func TestProfileCPU(t *testing.T) {
	if profileCPU("") != nil {
		t.Error("an empty prefix started a profile")
	}
	prefix := filepath.Join(t.TempDir(), "cpu")
	stop := profileCPU(prefix)
	if stop == nil {
		t.Fatal("no profile started")
	}
	stop()
	info, err := os.Stat(fmt.Sprintf("%s.%d", prefix, os.Getpid()))
	if err != nil || info.Size() == 0 {
		t.Errorf("profile file: %v, %v", info, err)
	}
}
