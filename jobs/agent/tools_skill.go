package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strings"
)

// skillTools are the tools skills bring (seed: web-research,
// code-analysis, customer-communication). Those needing what this
// installation does not have say so instead of failing at run time.
func skillTools() []Tool {
	code := json.RawMessage(`{"type":"object","properties":{"code":{"type":"string","description":"Go source code"}},"required":["code"]}`)
	return []Tool{
		{Name: "web_search", Skill: "web-research", Description: "Search the web.",
			Unavailable: "needs internet access, which this installation does not have"},
		{Name: "web_fetch", Skill: "web-research", Description: "Fetch a web page.",
			Unavailable: "needs internet access, which this installation does not have"},
		{Name: "send_email", Skill: "customer-communication", Description: "Send an e-mail.",
			Unavailable: "needs an e-mail provider, and none is configured"},
		{Name: "send_sms", Skill: "customer-communication", Description: "Send a text message.",
			Unavailable: "needs an SMS provider, and none is configured"},
		{Name: "ast_parse", Skill: "code-analysis", Parameters: code,
			Description: "Parse Go source code and list its package, imports and declarations (functions, types, variables).",
			RunFunc:     func(_ context.Context, c Call) (string, error) { return astOutline(codeArg(c)), nil }},
		{Name: "static_analysis", Skill: "code-analysis", Parameters: code,
			Description: "Check Go source code: syntax errors, unused imports, empty error checks, functions over 80 lines.",
			RunFunc:     func(_ context.Context, c Call) (string, error) { return staticCheck(codeArg(c)), nil }},
	}
}

func codeArg(c Call) string {
	var a struct {
		Code string `json:"code"`
	}
	json.Unmarshal(c.Args, &a)
	return a.Code
}

func parseGo(src string) (*token.FileSet, *ast.File, error) {
	fs := token.NewFileSet()
	f, err := parser.ParseFile(fs, "input.go", src, parser.ParseComments|parser.AllErrors)
	return fs, f, err
}

// astOutline lists what a Go file declares.
func astOutline(src string) string {
	fs, f, err := parseGo(src)
	if f == nil {
		return "syntax error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n", f.Name.Name)
	for _, im := range f.Imports {
		fmt.Fprintf(&b, "import %s\n", im.Path.Value)
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			recv := ""
			if d.Recv != nil && len(d.Recv.List) > 0 {
				recv = "(" + exprString(d.Recv.List[0].Type) + ") "
			}
			fmt.Fprintf(&b, "func %s%s (line %d, %d lines)\n", recv, d.Name.Name, fs.Position(d.Pos()).Line,
				fs.Position(d.End()).Line-fs.Position(d.Pos()).Line+1)
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					fmt.Fprintf(&b, "type %s\n", sp.Name.Name)
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						fmt.Fprintf(&b, "%s %s\n", d.Tok, n.Name)
					}
				}
			}
		}
	}
	if err != nil {
		fmt.Fprintf(&b, "(with errors: %v)\n", err)
	}
	return b.String()
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return "*" + exprString(e.X)
	case *ast.Ident:
		return e.Name
	}
	return "?"
}

// staticCheck reports a few problems a reviewer would point out.
func staticCheck(src string) string {
	fs, f, err := parseGo(src)
	if err != nil {
		return "syntax error: " + err.Error()
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	var findings []string
	for _, im := range f.Imports {
		name := strings.Trim(im.Path.Value, `"`)
		name = name[strings.LastIndex(name, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		if name != "_" && name != "." && !used[name] {
			findings = append(findings, fmt.Sprintf("line %d: import %s is not used", fs.Position(im.Pos()).Line, im.Path.Value))
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if lines := fs.Position(n.End()).Line - fs.Position(n.Pos()).Line + 1; lines > 80 {
				findings = append(findings, fmt.Sprintf("line %d: func %s is %d lines long; consider splitting it", fs.Position(n.Pos()).Line, n.Name.Name, lines))
			}
		case *ast.IfStmt:
			if isErrCheck(n.Cond) && len(n.Body.List) == 0 {
				findings = append(findings, fmt.Sprintf("line %d: an error is checked and then ignored", fs.Position(n.Pos()).Line))
			}
		}
		return true
	})
	if len(findings) == 0 {
		return "No problems found."
	}
	sort.Strings(findings)
	return strings.Join(findings, "\n")
}

func isErrCheck(e ast.Expr) bool {
	b, ok := e.(*ast.BinaryExpr)
	if !ok || b.Op != token.NEQ {
		return false
	}
	id, ok := b.X.(*ast.Ident)
	nilID, ok2 := b.Y.(*ast.Ident)
	return ok && ok2 && id.Name == "err" && nilID.Name == "nil"
}
