package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// printMachine says what the figures were taken on. A fact that cannot be
// read is printed as such rather than failing the run.
func printMachine(r *runner, withDocker bool) {
	fmt.Println("machine:")
	fact := func(name, value string) { fmt.Printf("  %-16s %s\n", name, value) }
	fact("date", time.Now().UTC().Format(time.RFC3339))
	fact("cores", fmt.Sprintf("%d (%s)", runtime.NumCPU(), procField("/proc/cpuinfo", "model name")))
	fact("memory", memoryTotal())
	fact("kernel", commandFact(r, "uname", "-sr"))
	fact("load average", loadAverage())
	fact("go", runtime.Version())
	if withDocker {
		fact("docker engine", commandFact(r, dockerBinary, "version", "-f", "{{.Server.Version}} (API {{.Server.APIVersion}})"))
		fact("docker client", commandFact(r, dockerBinary, "version", "-f", "{{.Client.Version}} ("+dockerBinary+", DOCKER_BUILDKIT=1)"))
		fact("storage driver", commandFact(r, dockerBinary, "info", "-f", "{{.Driver}}, root {{.DockerRootDir}}"))
		fact("terraform", firstLine(commandFact(r, "terraform", "version")))
	}
}

func commandFact(r *runner, args ...string) string {
	out, err := r.output(args...)
	if err != nil {
		return "unknown (" + firstLine(err.Error()) + ")"
	}
	return out
}

// procField reads "name : value" from a /proc file.
func procField(path, name string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(raw)) {
		key, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(key) == name {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

func memoryTotal() string {
	var kib int64
	if _, err := fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%d kB", &kib); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
}

// loadAverage shows how busy the shared machine was.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ") + " (1, 5, 15 min)"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
