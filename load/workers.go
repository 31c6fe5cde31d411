package load

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// forEach calls fn for every i in [0, n) on c workers, in order of i as
// workers free up, until ctx ends.
func forEach(ctx context.Context, n, c int, fn func(ctx context.Context, i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(ctx, i)
			}
		})
	}
	wg.Wait()
}

// limit ends a phase after a duration or after a number of requests,
// whichever comes first (a zero count means no count).
type limit struct {
	duration time.Duration
	count    int64
}

// forLimit calls fn repeatedly on c workers until the limit is reached or
// ctx ends. Each worker has its own random source, seeded by its number so
// that runs are alike, and fn learns which worker it runs on.
func forLimit(ctx context.Context, l limit, c int, fn func(ctx context.Context, worker int, rng *rand.Rand)) {
	ctx, cancel := context.WithTimeout(ctx, l.duration)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	for w := range c {
		rng := rand.New(rand.NewPCG(uint64(w)+1, 7))
		wg.Go(func() {
			for ctx.Err() == nil && (l.count == 0 || n.Add(1) <= l.count) {
				fn(ctx, w, rng)
			}
		})
	}
	wg.Wait()
}

// paced returns a function that sleeps until worker w's next turn when
// the workers together should send rate requests a second; the workers'
// turns are staggered. Without a rate it returns at once.
func paced(rate float64, workers, w int) func() {
	if rate <= 0 {
		return func() {}
	}
	interval := time.Duration(float64(time.Second) * float64(workers) / rate)
	due := time.Now().Add(interval * time.Duration(w) / time.Duration(workers))
	return func() {
		due = due.Add(interval)
		time.Sleep(time.Until(due))
	}
}
