package browser_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvChromium names a Chromium binary to use instead of Debian's.
const EnvChromium = "GATEHOUSE_CHROMIUM"

// defaultChromium is where Debian's chromium package puts the browser.
const defaultChromium = "/usr/bin/chromium"

// testTimeout bounds one browser test, start of Chromium included, so that
// a page that never shows a selector fails the test instead of hanging it.
const testTimeout = 90 * time.Second

// chromiumPath returns the Chromium to drive. Without one it skips t, or
// fails it under CI, which must run these tests (.ci/chromium installs
// Chromium there).
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv(EnvChromium)
	if path == "" {
		path = defaultChromium
	}
	if p, err := exec.LookPath(path); err == nil {
		return p
	}
	msg := "browser tests need Chromium: no executable at " + path +
		"; install Debian's chromium package (apt-get install --no-install-recommends chromium, or run .ci/chromium)" +
		" or set " + EnvChromium + " to a Chromium binary"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile for t and
// returns a context of one of its tabs, which ends testTimeout from now.
// Chromium's own output goes to t's log only when t fails, since it is
// noisy and tells nothing when the test passes.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	profile := t.TempDir() // before the browser, so it is removed after Chromium exits
	out := &lockedBuffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Containers often have a small /dev/shm, which crashes Chromium's
		// renderer; its shared memory then goes to the temporary folder.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(out),
	}
	timeout, cancelTimeout := context.WithTimeout(context.Background(), testTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(timeout, opts...)
	ctx, cancelTab := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
		if t.Failed() && out.Len() > 0 {
			t.Logf("Chromium's output:\n%s", out.String())
		}
	})
	// Start the browser now, so that a Chromium that cannot start fails
	// here with its own error rather than in the first step of the test.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return ctx
}

// lockedBuffer is a bytes.Buffer that Chromium's output goroutine and the
// test may use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
