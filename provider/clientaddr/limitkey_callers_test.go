package clientaddr

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// perAddress marks a caller whose key is built from a client address: it
// must go through LimitKey, directly or through a helper of its package.
const perAddress = "per address"

// limitCallers classifies every function outside storage/ that reads or
// updates a storage throttle or single-use claim, by "package dir.func":
// what its key is built from. A new caller fails TestEveryAddressLimitUsesLimitKey
// until it is listed here, so that no per-address limit can forget the
// IPv6 network (LimitKey) unnoticed.
var limitCallers = map[string]string{
	"provider/member.addressWait":       perAddress, // login/address/<network>
	"provider/member.addressFailed":     perAddress,
	"provider/member.reserveUnknown":    "an unknown member number",
	"provider/otp.reserve":              perAddress, // otp/address/<network>, with the member's keys
	"provider/otp.setSlot":              "a member and purpose",
	"provider.admitDeviceAuthorization": perAddress, // device_authorization/ip/<network>
	"login-ui.admit":                    perAddress, // device/ip/<network>, device/all
	"provider/admin.supportBudget":      "a member (support session codes)",
	"provider/admin/adminhttp.admit":    "an admin API client id",
	"provider.firstKeys":                "a key generation (single use)",
	"provider.rotateIfDue":              "a key generation (single use)",
	"provider/passkey.finishState":      "a ceremony's challenge (single use)",
}

// limitMethods are the storage roles' methods whose key decides a limit.
var limitMethods = []string{"Throttle", "UpdateThrottles", "ClaimOnce"}

// addressKeyLiteral matches the literal prefixes of keys built from an
// address ("login/address/", "device/ip/"): only a function that goes
// through LimitKey may hold one.
var addressKeyLiteral = regexp.MustCompile(`(^|/)(ip|ips|addr|address|addresses|client_ip|network)/$`)

type funcInfo struct {
	id       string // "dir.name"
	callsKey bool   // calls clientaddr.LimitKey itself
	calls    []string
	limits   bool // calls a limit method
	literals []string
}

// TestEveryAddressLimitUsesLimitKey reads the module's source (tests and
// storage/ aside) and checks that every throttle caller is classified in
// limitCallers, that every per-address one keys on LimitKey (itself or
// through a helper of its package that does), and that every literal
// address-key prefix sits in such a function.
func TestEveryAddressLimitUsesLimitKey(t *testing.T) {
	root := moduleRoot(t)
	funcs := map[string]*funcInfo{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "storage" || strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		return scanFile(path, filepath.ToSlash(filepath.Dir(rel)), funcs)
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range funcs {
		if !f.limits {
			continue
		}
		seen[f.id] = true
		class, ok := limitCallers[f.id]
		if !ok {
			t.Errorf("%s reads or updates a limit and is not in limitCallers: say what its key is built from (per address: through LimitKey)", f.id)
			continue
		}
		if class == perAddress && !keysOnNetwork(f, funcs) {
			t.Errorf("%s keys a per-address limit without clientaddr.LimitKey: an IPv6 client could rotate through its /64", f.id)
		}
	}
	for id := range limitCallers {
		if !seen[id] {
			t.Errorf("limitCallers lists %s, which calls no limit method (any more): remove or rename it", id)
		}
	}
	for _, f := range funcs {
		if len(f.literals) > 0 && !keysOnNetwork(f, funcs) {
			t.Errorf("%s holds the address key prefix %q but does not go through clientaddr.LimitKey", f.id, f.literals)
		}
	}
	if len(seen) < 5 {
		t.Fatalf("found only %d limit callers under %s: the scan is broken", len(seen), root)
	}
}

// keysOnNetwork: f calls LimitKey, or a function of its package that does.
func keysOnNetwork(f *funcInfo, funcs map[string]*funcInfo) bool {
	if f.callsKey {
		return true
	}
	dir := f.id[:strings.LastIndex(f.id, ".")]
	return slices.ContainsFunc(f.calls, func(name string) bool {
		g, ok := funcs[dir+"."+name]
		return ok && g.callsKey
	})
}

func scanFile(path, dir string, funcs map[string]*funcInfo) error {
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	self := strings.HasSuffix(dir, "provider/clientaddr")
	for _, decl := range file.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		id := dir + "." + fd.Name.Name
		f := funcs[id]
		if f == nil {
			f = &funcInfo{id: id}
			funcs[id] = f
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "clientaddr" && fn.Sel.Name == "LimitKey" {
						f.callsKey = true
					}
					if slices.Contains(limitMethods, fn.Sel.Name) && !self {
						f.limits = true
					}
					f.calls = append(f.calls, fn.Sel.Name)
				case *ast.Ident:
					f.calls = append(f.calls, fn.Name)
				}
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); n.Kind == token.STRING && err == nil && addressKeyLiteral.MatchString(s) {
					f.literals = append(f.literals, s)
				}
			}
			return true
		})
	}
	return nil
}

// moduleRoot is the directory of go.mod above the working directory.
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
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
