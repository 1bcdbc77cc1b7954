package logs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Operational are the attribute keys Aula's log calls use that carry no
// personal data: they go to stderr too. Every key is either here or in
// Personal; TestLogKeysAreClassified fails on a new key until it is put
// in one of them.
var Operational = map[string]bool{
	// conference and call identities: random IDs, no person behind them
	"meeting": true, "room": true, "parent": true, "participant": true, "call": true, "local": true,
	"component": true, "sub": true, "pion": true, "feature": true, "state": true, "pc": true,
	// errors and reasons (addresses in them are masked on stderr)
	"err": true, "error": true, "reason": true, "panic": true, "messageKey": true, "code": true,
	// the server's own addresses, ports, settings and files
	"addr": true, "public_url": true, "store": true, "tls": true, "udp": true, "ice_tcp": true, "turn": true,
	"transport": true, "language": true, "file": true, "names": true, "not_after": true, "in": true,
	// the platform's hosts (document and callback URLs) and browsers' page origins: sites, not people
	"host": true, "origin": true,
	// request and media facts
	"method": true, "path": true, "status": true, "duration": true, "timeout": true, "limit": true,
	"documents": true, "folders": true, "track": true, "kind": true, "rid": true, "codec": true, "mid": true,
	"rfc4733": true, "tries": true, "rate_limited": true, "remote_hangup": true, "event": true, "type": true,
	"types": true, "not_logged_before": true, "meetings": true, "attempts": true, "failed_for": true,
	"removed": true, "held": true, "files": true, "files_removed": true, "criteria": true, "count": true, "hold": true,
	"bytes": true, "data": true, "after": true, "until": true, "signal": true, "turn_host": true,
	// documents: Aula's own IDs and file names (document.pdf), never the uploader's
	"doc": true, "pages": true, "src": true, "soffice": true, "output": true, "took": true, "workers": true,
}

// The packages whose log calls are checked.
var loggingPackages = []string{"web", "dialin", "signaling", "room", "app", "sfu", "store", "present", "render", "cmd/aula", "logs"}

// TestLogKeysAreClassified reads every log call of the server's packages
// (s.log.Info("msg", "key", v, …), With, Log, slog.String("key", …),
// attribute slices) and checks that each literal key is known to be
// personal (stderr drops it) or operational. A log call that adds
// personal data under a new key would otherwise reach journald.
func TestLogKeysAreClassified(t *testing.T) {
	unknown := map[string][]string{}
	fset := token.NewFileSet()
	for _, pkg := range loggingPackages {
		files, _ := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range logKeys(f) {
				if !Personal[k.key] && !Operational[k.key] {
					unknown[k.key] = append(unknown[k.key], fset.Position(k.pos).String())
				}
			}
		}
	}
	keys := make([]string, 0, len(unknown))
	for k := range unknown {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("log attribute %q (%s) is neither in logs.Personal nor in Operational (logs/keys_test.go): "+
			"decide whether it is personal data, which must stay out of stderr", k, strings.Join(unknown[k], ", "))
	}
}

type keyAt struct {
	key string
	pos token.Pos
}

var levelMethods = map[string]int{"Debug": 1, "Info": 1, "Warn": 1, "Error": 1, "Log": 3, "With": 0,
	"DebugContext": 2, "InfoContext": 2, "WarnContext": 2, "ErrorContext": 2}

var attrFuncs = map[string]bool{"String": true, "Int": true, "Int64": true, "Uint64": true, "Float64": true,
	"Bool": true, "Time": true, "Duration": true, "Any": true, "Group": true}

// logKeys finds the literal keys of log calls in f.
func logKeys(f *ast.File) []keyAt {
	var out []keyAt
	keysFrom := func(args []ast.Expr, first int) {
		for i := first; i < len(args); i += 2 {
			lit, ok := args[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				// An slog.Attr (or a variable) takes one place, not two.
				if i < len(args) {
					i--
				}
				continue
			}
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out = append(out, keyAt{s, lit.Pos()})
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			switch fn := n.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok && x.Name == "slog" && attrFuncs[fn.Sel.Name] && len(n.Args) > 0 {
					keysFrom(n.Args[:1], 0)
					return true
				}
				first, ok := levelMethods[fn.Sel.Name]
				if ok && isLogger(fn.X) {
					keysFrom(n.Args, first)
				}
			case *ast.Ident:
				if fn.Name == "append" && len(n.Args) > 1 {
					if id, ok := n.Args[0].(*ast.Ident); ok && id.Name == "attrs" {
						keysFrom(n.Args, 1)
					}
				}
			}
		case *ast.AssignStmt:
			for i, l := range n.Lhs {
				id, ok := l.(*ast.Ident)
				if !ok || id.Name != "attrs" || i >= len(n.Rhs) {
					continue
				}
				if cl, ok := n.Rhs[i].(*ast.CompositeLit); ok {
					keysFrom(cl.Elts, 0)
				}
			}
		}
		return true
	})
	return out
}

// isLogger: the receiver's last name is log, logger, Logger or l (a
// *slog.Logger by this code base's habits).
func isLogger(x ast.Expr) bool {
	var name string
	switch x := x.(type) {
	case *ast.Ident:
		name = x.Name
	case *ast.SelectorExpr:
		name = x.Sel.Name
	case *ast.CallExpr: // log.With(…).Info(…)
		if s, ok := x.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "With" {
			return isLogger(s.X)
		}
	}
	switch name {
	case "log", "logger", "Logger", "l", "Log":
		return true
	}
	return false
}
