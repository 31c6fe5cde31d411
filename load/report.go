package load

import (
	"encoding/json"
	"os"
	"time"
)

// Report is everything one invocation measured, as written to --json.
type Report struct {
	Started time.Time   `json:"started"`
	Command string      `json:"command"`
	Machine Machine     `json:"machine"`
	Sizes   Sizes       `json:"sizes"`
	Runs    []ServerRun `json:"runs"`
}

// ServerRun is the scenarios run against one server.
type ServerRun struct {
	Database     string  `json:"database"` // sqlite, postgres, or empty for a server the tool did not start
	URL          string  `json:"url"`
	Phases       []Phase `json:"phases"`
	PeakRSSBytes int64   `json:"peak_rss_bytes,omitempty"`
	LoadBefore   string  `json:"load_average_before,omitempty"` // the machine's, from /proc/loadavg
	Failure      string  `json:"failure,omitempty"`             // why the run stopped early
}

// Phase is one phase of a scenario. A setup phase prepares data for the
// phases after it; its figures are reported but are not the point.
type Phase struct {
	Scenario    string  `json:"scenario"`
	Name        string  `json:"name"`
	Setup       bool    `json:"setup,omitempty"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	Requests    int     `json:"requests"`
	PerSecond   float64 `json:"requests_per_second"`
	Errors      int     `json:"errors"`
	RSSBytes    int64   `json:"rss_bytes_after,omitempty"`
	Kinds       []Kind  `json:"kinds"`
	Total       *Kind   `json:"total,omitempty"` // all kinds together, when there are several
}

// Kind is the requests of one kind within a phase. PerSecond is over the
// window from the first request of the kind sent to the last answered.
type Kind struct {
	Name      string       `json:"name"`
	Requests  int          `json:"requests"`
	Items     int          `json:"items_per_request,omitempty"` // checks per batch
	PerSecond float64      `json:"requests_per_second"`
	P50       float64      `json:"p50_ms"`
	P95       float64      `json:"p95_ms"`
	P99       float64      `json:"p99_ms"`
	Max       float64      `json:"max_ms"`
	Allowed   int          `json:"allowed,omitempty"` // allowed decisions, for checks
	Errors    []ErrorCount `json:"errors,omitempty"`
}

// ErrorCount is the unexpected answers of one status, with the first one's
// body. Status 0 is a request that got no answer.
type ErrorCount struct {
	Status int    `json:"status"`
	Count  int    `json:"count"`
	Sample string `json:"sample"`
}

// ErrorCount is the number of unexpected answers.
func (k Kind) ErrorCount() int {
	n := 0
	for _, e := range k.Errors {
		n += e.Count
	}
	return n
}

// Find returns the kind named in the phase of a scenario.
func (r ServerRun) Find(scenario, phase, kind string) (Kind, bool) {
	for _, p := range r.Phases {
		if p.Scenario != scenario || p.Name != phase {
			continue
		}
		if kind == "" && p.Total != nil {
			return *p.Total, true
		}
		for _, k := range p.Kinds {
			if k.Name == kind || (kind == "" && len(p.Kinds) == 1) {
				return k, true
			}
		}
	}
	return Kind{}, false
}

// Errors is the number of unexpected answers in the run.
func (r ServerRun) Errors() int {
	n := 0
	for _, p := range r.Phases {
		n += p.Errors
	}
	return n
}

// WriteJSON writes the report to path.
func (r Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
