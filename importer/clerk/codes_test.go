package clerk

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCodesActedOnAreDocumented: every error code this project acts on is
// one Clerk documents, with the status Clerk documents for it, so that no
// handling of a refusal (Classify, IdentifierExists, the importer's and the
// sync's checks) hangs on a code only the emulator answers. It reads the
// source: every Code* constant of this package, and every string literal
// compared with an error code (HasCode("…"), Code() == "…", d.Code == "…")
// in the importer and the commands.
func TestCodesActedOnAreDocumented(t *testing.T) {
	fset := token.NewFileSet()
	consts := map[string]string{} // name → value
	var literals []string         // "file:line code"
	root := filepath.Join("..", "..")
	for _, dir := range []string{"importer", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			inClerk := filepath.Dir(path) == filepath.Join(root, "importer", "clerk")
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					if !inClerk {
						return true
					}
					for i, name := range n.Names {
						if strings.HasPrefix(name.Name, "Code") && i < len(n.Values) {
							if lit, ok := n.Values[i].(*ast.BasicLit); ok {
								consts[name.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "HasCode" && len(n.Args) == 1 {
						if lit, ok := n.Args[0].(*ast.BasicLit); ok {
							v, _ := strconv.Unquote(lit.Value)
							literals = append(literals, fset.Position(lit.Pos()).String()+" "+v)
						}
					}
				case *ast.BinaryExpr:
					if n.Op != token.EQL && n.Op != token.NEQ {
						return true
					}
					for _, side := range [][2]ast.Expr{{n.X, n.Y}, {n.Y, n.X}} {
						lit, ok := side[1].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING || lit.Value == `""` || !comparesCode(side[0]) {
							continue
						}
						v, _ := strconv.Unquote(lit.Value)
						literals = append(literals, fset.Position(lit.Pos()).String()+" "+v)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(consts) < 10 {
		t.Fatalf("found %d Code constants; the source walk is broken", len(consts))
	}
	for name, code := range consts {
		if _, ok := DocumentedCode(code); !ok {
			t.Errorf("%s = %q is not a code Clerk documents", name, code)
		}
	}
	for _, l := range literals {
		t.Errorf("%s: an error code compared as a literal; use a Code constant (and Clerk must document it)", l)
	}
}

// comparesCode reports whether e reads an error code: x.Code or x.Code().
func comparesCode(e ast.Expr) bool {
	if call, ok := e.(*ast.CallExpr); ok {
		e = call.Fun
	}
	sel, ok := e.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Code"
}

// TestDocumentedStatuses pins the statuses the importer's classification
// relies on for the codes it names.
func TestDocumentedStatuses(t *testing.T) {
	for code, want := range map[string]int{
		CodeIdentifierExists: 422, CodeAuthenticationInvalid: 401, CodeAuthorizationInvalid: 403,
		CodeUserQuotaExceeded: 403, CodeQuotaExceeded: 403, CodeResourceNotFound: 404, CodeTooManyRequests: 429,
	} {
		if got, ok := DocumentedCode(code); !ok || got != want {
			t.Errorf("%s: documented %d %v, want %d", code, got, ok, want)
		}
	}
}
