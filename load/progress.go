package load

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// progress prints a line a second to its writer while a phase runs, and
// keeps the highest resident memory it saw.
type progress struct {
	w     io.Writer
	label string // the database, or the server's URL
	rss   func() int64

	mu      sync.Mutex
	current *phase
	last    int64 // requests of the current phase at the last line
	peak    int64
}

func newProgress(w io.Writer, label string, rss func() int64) *progress {
	return &progress{w: w, label: label, rss: rss}
}

// show makes ph the phase reported, or none when ph is nil.
func (p *progress) show(ph *phase) {
	p.mu.Lock()
	p.current, p.last = ph, 0
	p.mu.Unlock()
	p.sample()
}

// run prints until ctx ends.
func (p *progress) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.tick()
		}
	}
}

func (p *progress) tick() {
	rss := p.sample()
	p.mu.Lock()
	defer p.mu.Unlock()
	ph := p.current
	if ph == nil {
		return
	}
	n := ph.requests.Load()
	line := fmt.Sprintf("%s: %s %s: %d requests, %d/s, %d errors, %.0fs",
		p.label, ph.scenario, ph.name, n, n-p.last, ph.errors.Load(), time.Since(ph.started).Seconds())
	if rss > 0 {
		line += fmt.Sprintf(", server RSS %d MiB", rss>>20)
	}
	fmt.Fprintln(p.w, line)
	p.last = n
}

// sample reads the server's resident memory and keeps the peak.
func (p *progress) sample() int64 {
	rss := p.rss()
	p.mu.Lock()
	p.peak = max(p.peak, rss)
	p.mu.Unlock()
	return rss
}

// peakRSS is the highest resident memory seen.
func (p *progress) peakRSS() int64 {
	p.sample()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}
