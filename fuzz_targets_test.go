package gatehouse_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestMakeFuzzRunsEveryFuzzTarget keeps the Makefile's fuzz target in step
// with the code: every Fuzz function of every package has its line there,
// naming its package, and every line names a Fuzz function that exists.
// `make test` runs `make fuzz`, so a target left out would never run.
func TestMakeFuzzRunsEveryFuzzTarget(t *testing.T) {
	inCode := fuzzFunctions(t)
	inMake := makeFuzzLines(t)
	if len(inCode) == 0 {
		t.Fatal("found no Fuzz functions: is the test running at the module root?")
	}
	for _, target := range inCode {
		if !slices.Contains(inMake, target) {
			t.Errorf("%s in %s is not run by `make fuzz`; add to the Makefile's fuzz target:\n\t$(GO) test -run '^$$' -fuzz '^%s$$' -fuzztime $(or $(FUZZTIME),10000x) %s",
				target.name, target.dir, target.name, target.dir)
		}
	}
	for _, target := range inMake {
		if !slices.Contains(inCode, target) {
			t.Errorf("the Makefile's fuzz target runs %s in %s, which has no such Fuzz function", target.name, target.dir)
		}
	}
}

// fuzzTarget is one fuzz function: its name and its package's directory
// as the Makefile writes it, "./scim/".
type fuzzTarget struct{ name, dir string }

// fuzzFunctions lists the Fuzz functions (func FuzzX(f *testing.F)) of
// the module's test files.
func fuzzFunctions(t *testing.T) []fuzzTarget {
	t.Helper()
	var out []fuzzTarget
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range file.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && isFuzzFunction(fn) {
				out = append(out, fuzzTarget{fn.Name.Name, "./" + filepath.ToSlash(filepath.Dir(path)) + "/"})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// isFuzzFunction reports whether fn is what go test runs as a fuzz
// target: FuzzX(*testing.F), X not starting with a lower-case letter.
func isFuzzFunction(fn *ast.FuncDecl) bool {
	name, ok := strings.CutPrefix(fn.Name.Name, "Fuzz")
	if first, _ := utf8.DecodeRuneInString(name); !ok || fn.Recv != nil || unicode.IsLower(first) {
		return false
	}
	params := fn.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "testing" && sel.Sel.Name == "F"
}

// makeFuzzLine is one line of the fuzz target: the Fuzz function and the
// package directory.
var makeFuzzLine = regexp.MustCompile(`-fuzz '\^(\w+)\$\$'.* (\./[\w./-]*)\s*$`)

// makeFuzzLines lists the fuzz targets the Makefile's fuzz rule runs.
func makeFuzzLines(t *testing.T) []fuzzTarget {
	t.Helper()
	raw, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var out []fuzzTarget
	inRule := false
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(line, "fuzz:"):
			inRule = true
		case inRule && strings.HasPrefix(line, "\t"):
			m := makeFuzzLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("a line of the fuzz target runs no single fuzz target: %q", line)
			}
			dir := m[2]
			if !strings.HasSuffix(dir, "/") {
				dir += "/"
			}
			out = append(out, fuzzTarget{m[1], dir})
		default:
			inRule = false
		}
	}
	if len(out) == 0 {
		t.Fatal("the Makefile has no fuzz target")
	}
	return out
}
