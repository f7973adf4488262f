package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// stepTime is one BuildKit step of a build and how long it took.
type stepTime struct {
	name   string
	took   time.Duration
	cached bool
}

// Steps shorter than this are left out of the explanation: they are the
// Dockerfile and metadata loads, which take a few milliseconds.
const shortStep = 100 * time.Millisecond

// describeSteps lists the steps that took time, and counts the cached ones
// (FROM, always; COPY or RUN would mean the change was not seen).
func describeSteps(steps []stepTime) string {
	var parts, cached []string
	for _, s := range steps {
		switch {
		case s.cached:
			cached = append(cached, s.name)
		case s.took >= shortStep:
			parts = append(parts, fmt.Sprintf("%s %.1f s", s.name, s.took.Seconds()))
		}
	}
	if len(cached) > 0 {
		parts = append(parts, fmt.Sprintf("%d cached", len(cached)))
	}
	return strings.Join(parts, ", ")
}

// progressLine is a line of `docker build --progress=plain`: "#5 DONE 0.1s".
var progressLine = regexp.MustCompile(`^#(\d+) (.+)$`)

// parseProgress reads the steps from the CLI's plain progress output: a
// step's first line is its name; it ends with DONE and its time, or CACHED.
func parseProgress(output string) []stepTime {
	var steps []*stepTime
	byNumber := map[string]*stepTime{}
	for line := range strings.Lines(output) {
		m := progressLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		step, seen := byNumber[m[1]]
		if !seen {
			step = &stepTime{name: m[2]}
			byNumber[m[1]] = step
			steps = append(steps, step)
			continue
		}
		if m[2] == "CACHED" {
			step.cached = true
		} else if seconds, ok := strings.CutPrefix(m[2], "DONE "); ok {
			if s, err := strconv.ParseFloat(strings.TrimSuffix(seconds, "s"), 64); err == nil {
				step.took = time.Duration(s * float64(time.Second))
			}
		}
	}
	out := make([]stepTime, len(steps))
	for i, s := range steps {
		out[i] = *s
	}
	return out
}

// lastBuild reads from the state how long the provider's last build took
// (from its start to its image being tagged) and its steps' times.
func (t *terraformSide) lastBuild() (time.Duration, []stepTime, error) {
	raw, err := os.ReadFile(filepath.Join(t.dir, "terraform.tfstate"))
	if err != nil {
		return 0, nil, err
	}
	var state struct {
		Resources []struct {
			Instances []struct {
				Attributes struct {
					Status struct {
						Completed     span `json:"completed"`
						StageStatuses []struct {
							span
							Name   string `json:"name"`
							Cached bool   `json:"cached"`
						} `json:"stage_statuses"`
					} `json:"status"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		return 0, nil, fmt.Errorf("reading the Terraform state: %w", err)
	}
	if len(state.Resources) != 1 || len(state.Resources[0].Instances) != 1 {
		return 0, nil, fmt.Errorf("the Terraform state does not hold exactly one image")
	}
	status := state.Resources[0].Instances[0].Attributes.Status
	var steps []stepTime
	for _, s := range status.StageStatuses {
		steps = append(steps, stepTime{name: s.Name, took: s.duration(), cached: s.Cached})
	}
	return status.Completed.duration(), steps, nil
}

// span is a status's started_at and finished_at (RFC 3339).
type span struct {
	StartedAt  string `json:"started_at"`
	FinishedAt string `json:"finished_at"`
}

// duration is 0 when either end is missing.
func (s span) duration() time.Duration {
	started, err1 := time.Parse(time.RFC3339Nano, s.StartedAt)
	finished, err2 := time.Parse(time.RFC3339Nano, s.FinishedAt)
	if err1 != nil || err2 != nil {
		return 0
	}
	return finished.Sub(started)
}
