package load

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxSample bounds the sample body kept for each unexpected status.
const maxSample = 300

// phase records the requests of one phase of a scenario, by kind.
type phase struct {
	scenario, name string
	concurrency    int
	setup          bool
	started        time.Time

	requests atomic.Int64 // for progress
	errors   atomic.Int64

	mu    sync.Mutex
	kinds []*kind
}

func newPhase(scenario, name string, concurrency int, setup bool) *phase {
	return &phase{scenario: scenario, name: name, concurrency: concurrency, setup: setup, started: time.Now()}
}

// kind returns the recorder of requests of one kind, made on first use.
// items is how many questions one request carries (a batch check's size),
// one otherwise.
func (p *phase) kind(name string, items int) *kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range p.kinds {
		if k.name == name {
			return k
		}
	}
	k := &kind{phase: p, name: name, items: max(items, 1)}
	p.kinds = append(p.kinds, k)
	return k
}

// kind records the requests of one kind: their latencies, when the first
// was sent and the last answered, and the unexpected answers.
type kind struct {
	phase *phase
	name  string
	items int

	mu          sync.Mutex
	latencies   []time.Duration
	first, last time.Time
	allowed     int
	errs        map[int]*ErrorCount
}

// done records one answered request.
func (k *kind) done(sent time.Time, took time.Duration) {
	end := sent.Add(took)
	k.mu.Lock()
	k.latencies = append(k.latencies, took)
	if k.first.IsZero() || sent.Before(k.first) {
		k.first = sent
	}
	if end.After(k.last) {
		k.last = end
	}
	k.mu.Unlock()
	k.phase.requests.Add(1)
}

// failed records an unexpected answer (status 0: no answer at all).
func (k *kind) failed(status int, sample string) {
	if len(sample) > maxSample {
		sample = sample[:maxSample] + "…"
	}
	k.mu.Lock()
	if k.errs == nil {
		k.errs = map[int]*ErrorCount{}
	}
	e := k.errs[status]
	if e == nil {
		e = &ErrorCount{Status: status, Sample: sample}
		k.errs[status] = e
	}
	e.Count++
	k.mu.Unlock()
	k.phase.errors.Add(1)
}

// countAllowed adds n allowed decisions.
func (k *kind) countAllowed(n int) {
	k.mu.Lock()
	k.allowed += n
	k.mu.Unlock()
}

// result summarizes the phase.
func (p *phase) result(rss int64) Phase {
	elapsed := time.Since(p.started)
	out := Phase{
		Scenario:    p.scenario,
		Name:        p.name,
		Setup:       p.setup,
		Concurrency: p.concurrency,
		Seconds:     elapsed.Seconds(),
		RSSBytes:    rss,
	}
	var all []time.Duration
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range p.kinds {
		kr, lat := k.result()
		out.Kinds = append(out.Kinds, kr)
		all = append(all, lat...)
		out.Errors += kr.ErrorCount()
	}
	out.Requests = len(all)
	out.PerSecond = float64(len(all)) / elapsed.Seconds()
	if len(p.kinds) > 1 {
		total := Kind{Name: "all requests", Requests: len(all), PerSecond: out.PerSecond}
		slices.Sort(all)
		total.setPercentiles(all)
		out.Total = &total
	}
	return out
}

// result summarizes the kind and returns its latencies, sorted.
func (k *kind) result() (Kind, []time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	lat := slices.Clone(k.latencies)
	slices.Sort(lat)
	out := Kind{Name: k.name, Requests: len(lat), Items: k.items, Allowed: k.allowed}
	if window := k.last.Sub(k.first); window > 0 {
		out.PerSecond = float64(len(lat)) / window.Seconds()
	}
	out.setPercentiles(lat)
	for _, e := range k.errs {
		out.Errors = append(out.Errors, *e)
	}
	slices.SortFunc(out.Errors, func(a, b ErrorCount) int { return a.Status - b.Status })
	return out, lat
}

// setPercentiles fills the latency figures from sorted latencies.
func (k *Kind) setPercentiles(sorted []time.Duration) {
	if len(sorted) == 0 {
		return
	}
	at := func(p float64) float64 {
		i := int(p*float64(len(sorted))+0.5) - 1 // nearest rank
		return millis(sorted[min(max(i, 0), len(sorted)-1)])
	}
	k.P50, k.P95, k.P99, k.Max = at(0.50), at(0.95), at(0.99), millis(sorted[len(sorted)-1])
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
