package browser_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// EnvScreenshots names the folder the tests write their screenshots to,
// for people to review; without it they go to a temporary folder.
const EnvScreenshots = "GATEHOUSE_SCREENSHOTS"

// screenshotDir returns the folder for t's screenshots: a folder per test
// (and per dialect, as subtests) under $GATEHOUSE_SCREENSHOTS, so two runs
// on two databases do not overwrite each other. A relative
// $GATEHOUSE_SCREENSHOTS is taken from the module's root, where make runs,
// not from this package's folder, where go test runs.
func screenshotDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv(EnvScreenshots)
	if root == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(root) {
		root = filepath.Join(moduleRoot(t), root)
	}
	dir := filepath.Join(root, filepath.FromSlash(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	return dir
}

// screenshot writes a full-page PNG of the tab's current page to
// dir/name.png.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot of %s: %v", name, err)
	}
	t.Logf("screenshot %s", path)
}

// moduleRoot returns the folder of the go.mod above the working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
