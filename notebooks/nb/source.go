package nb

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
)

// FuncSource returns the source of a function or method declared in a Go file, with its doc comment: the
// method name of a receiver type ("lstmCell", "backward"), or a function (recv ""). Notebooks use it to
// show the code they explain as it is in the working tree, so the text shown can never be out of date.
func FuncSource(path, recv, name string) (string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != name || receiverType(fn) != recv {
			continue
		}
		start := fn.Pos()
		if fn.Doc != nil {
			start = fn.Doc.Pos()
		}
		return string(src[fset.Position(start).Offset:fset.Position(fn.End()).Offset]), nil
	}
	what := name
	if recv != "" {
		what = "(" + recv + ")." + name
	}
	return "", fmt.Errorf("%s: no func %s", path, what)
}

// receiverType is the type name of a method's receiver ("" for a function).
func receiverType(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return ""
	}
	t := fn.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	var buf bytes.Buffer
	_ = printer.Fprint(&buf, token.NewFileSet(), t)
	return buf.String()
}
