package authz

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestActionsListsEveryConstant reads actions.go so that a new Action
// constant cannot be left out of Actions (and so of the audit API's event
// filter).
func TestActionsListsEveryConstant(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "actions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Action
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		if typ, ok := spec.Type.(*ast.Ident); !ok || typ.Name != "Action" {
			return true
		}
		for _, v := range spec.Values {
			s, err := strconv.Unquote(v.(*ast.BasicLit).Value)
			if err != nil {
				t.Fatal(err)
			}
			declared = append(declared, Action(s))
		}
		return true
	})
	if diff := cmp.Diff(declared, Actions()); diff != "" {
		t.Errorf("Actions() against the constants of actions.go (-constants +Actions):\n%s", diff)
	}
	for _, a := range declared {
		if !a.Known() {
			t.Errorf("%s is not Known", a)
		}
	}
	if Action("stack-teleported").Known() {
		t.Error("an invented action is Known")
	}
}
