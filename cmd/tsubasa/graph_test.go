package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

// The import graph of the module, as design notes and README's "Layout"
// draw it: arrows point down only, cmd → login-ui → provider/<domain> →
// storage and cmd → provider → storage. TestImportGraph reads the graph
// from `go list` and checks it against the rules below; every failure
// names the package, the import it may not have and, for an indirect one,
// the direct import it comes through. Test files are not checked: a test
// may use what it needs (storagetest, notifytest, bolt) to run for real.

const mod = "tsubasa/"

// The authentication domains under provider/: the lower ones, which the
// upper ones build on.
var (
	lowerDomains = []string{"provider/acr", "provider/audit", "provider/notify", "provider/clientaddr", "provider/outbound", "provider/geoip",
		"provider/webhook", "provider/ssf", "provider/seal"}
	upperDomains = []string{"provider/member", "provider/otp", "provider/passkey", "provider/risk", "provider/contactcheck"}
)

// is matches the packages named (paths without the module prefix).
func is(names ...string) func(string) bool {
	return func(p string) bool { return slices.Contains(names, p) }
}

// under matches the packages below dir.
func under(dir string) func(string) bool {
	return func(p string) bool { return strings.HasPrefix(p, dir+"/") }
}

func either(fs ...func(string) bool) func(string) bool {
	return func(p string) bool {
		for _, f := range fs {
			if f(p) {
				return true
			}
		}
		return false
	}
}

func not(f func(string) bool) func(string) bool { return func(p string) bool { return !f(p) } }

var nothing = func(string) bool { return false }

// domain matches a domain package or one of its sub-packages.
var domain = func(p string) bool {
	for _, d := range slices.Concat(lowerDomains, upperDomains) {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// rule constrains what the packages of matches may import (of ours, paths
// without the module prefix): every dependency, or with direct only the
// imports in their own source.
type rule struct {
	why     string
	matches func(pkg string) bool
	allow   func(pkg, dep string) bool
	direct  bool
	// names are the packages the rule is about by name, which must exist:
	// a rename must not leave a rule about nothing.
	names []string
}

// only allows the packages f matches, whatever the importer.
func only(f func(string) bool) func(pkg, dep string) bool {
	return func(_, dep string) bool { return f(dep) }
}

var rules = []rule{
	{why: "config is plain data: it imports nothing of ours",
		matches: is("config"), allow: only(nothing), names: []string{"config"}},
	{why: "only cmd reads config: the composition root turns it into constructors",
		matches: not(under("cmd")), allow: only(not(is("config")))},
	{why: "storage holds records and roles: it imports nothing of ours",
		matches: is("storage"), allow: only(nothing), names: []string{"storage"}},
	{why: "a storage backend and the conformance suite import only storage",
		matches: under("storage"),
		allow: func(pkg, dep string) bool {
			// A backend's test support (storage/bolt/bolttest) opens that backend.
			return dep == "storage" || strings.HasSuffix(pkg, "test") && dep == path.Dir(pkg)
		},
		names: []string{"storage/bolt", "storage/storagetest", "storage/bolt/bolttest"}},
	{why: "acr, clientaddr, outbound and seal are leaves",
		matches: is("provider/acr", "provider/clientaddr", "provider/outbound", "provider/seal"), allow: only(nothing),
		names: []string{"provider/acr", "provider/clientaddr", "provider/outbound", "provider/seal"}},
	{why: "webhook, the signature and sending of the back office's webhooks, sends only through outbound",
		matches: is("provider/webhook"), allow: only(is("provider/outbound")), names: []string{"provider/webhook"}},
	{why: "ssf, the Shared Signals transmitter, reads storage's events and pushes SETs only through outbound (seal keeps the receivers' credentials)",
		matches: is("provider/ssf"), allow: only(is("storage", "provider/outbound", "provider/seal")), names: []string{"provider/ssf"}},
	{why: "audit, notify and geoip, the lower domains, import only storage",
		matches: is("provider/audit", "provider/notify", "provider/geoip"), allow: only(is("storage")),
		names: []string{"provider/audit", "provider/notify", "provider/geoip"}},
	{why: "member, otp, passkey, risk and contactcheck import only storage, the lower domains and their own sub-packages, never one another",
		matches: is(upperDomains...),
		allow: func(pkg, dep string) bool {
			return dep == "storage" || slices.Contains(lowerDomains, dep) || strings.HasPrefix(dep, pkg+"/")
		},
		names: upperDomains},
	{why: "a domain's test support imports nothing of ours",
		matches: is("provider/notify/notifytest", "provider/geoip/geoiptest"), allow: only(nothing),
		names: []string{"provider/notify/notifytest", "provider/geoip/geoiptest"}},
	{why: "the OpenID provider imports storage and the leaves acr, clientaddr, outbound and seal, and no other domain",
		matches: is("provider"), allow: only(is("storage", "provider/acr", "provider/clientaddr", "provider/outbound", "provider/seal")), names: []string{"provider"}},
	{why: "adminapi, the admin API's vocabulary, imports nothing of ours",
		matches: is("provider/admin/adminapi"), allow: only(nothing), names: []string{"provider/admin/adminapi"}},
	{why: "the admin operations sit on the provider, the domains and storage",
		matches: is("provider/admin"),
		allow:   only(either(is("provider", "provider/admin/adminapi", "storage"), domain)), names: []string{"provider/admin"}},
	{why: "the HTTP admin API carries the admin operations: it takes tokens through a function the composition root gives it, not from the provider",
		matches: is("provider/admin/adminhttp"),
		allow:   only(either(is("provider/admin", "provider/admin/adminapi", "storage"), domain)), direct: true,
		names: []string{"provider/admin/adminhttp"}},
	{why: "login-ui uses the domains and storage, never the OpenID provider: they meet in storage and in what cmd wires",
		matches: is("login-ui"), allow: only(either(is("storage"), domain)), names: []string{"login-ui"}},
	{why: "nothing under provider or storage imports cmd or login-ui",
		matches: either(is("provider", "storage"), under("provider"), under("storage")),
		allow:   only(not(either(under("cmd"), is("login-ui"))))},
	{why: "the load generator is a tool: it imports no package of ours",
		matches: is("cmd/tsubasa/internal/loadtest"), allow: only(nothing), names: []string{"cmd/tsubasa/internal/loadtest"}},
	{why: "main only starts the CLI",
		matches: is("cmd/tsubasa"), allow: only(is("cmd/tsubasa/internal/cli")), direct: true, names: []string{"cmd/tsubasa"}},
	{why: "only the CLI calls the composition root",
		matches: not(is("cmd/tsubasa/internal/cli")), allow: only(not(is("cmd/tsubasa/internal/app"))), direct: true,
		names: []string{"cmd/tsubasa/internal/cli", "cmd/tsubasa/internal/app"}},
	{why: "under cmd, only the composition root builds the server (login-ui, the provider, the admin operations and their HTTP API, the bbolt and PostgreSQL stores; backup copies the bbolt file)",
		matches: either(is("cmd/tsubasa"), under("cmd")),
		allow: func(pkg, dep string) bool {
			if pkg == "cmd/tsubasa/internal/app" {
				return true
			}
			if dep == "storage/bolt" {
				return pkg == "cmd/tsubasa/internal/backup"
			}
			if dep == "storage/postgres" {
				return false
			}
			return !is("login-ui", "provider", "provider/admin", "provider/admin/adminhttp")(dep)
		},
		direct: true, names: []string{"cmd/tsubasa/internal/backup"}},
}

// pkg is what `go list -json` says of a package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// ours strips the module prefix from the paths of our packages and drops
// the others.
func ours(paths []string) []string {
	var out []string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, mod); ok {
			out = append(out, rest)
		}
	}
	return out
}

// check returns every violation of rules in pkgs.
func check(pkgs []pkg, rules []rule) []string {
	byPath := map[string]pkg{}
	for _, p := range pkgs {
		byPath[strings.TrimPrefix(p.ImportPath, mod)] = p
	}
	var bad []string
	for _, r := range rules {
		for _, name := range r.names {
			if _, ok := byPath[name]; !ok {
				bad = append(bad, fmt.Sprintf("rule %q names %s%s, which is not in the module", r.why, mod, name))
			}
		}
		for path, p := range byPath {
			if !r.matches(path) {
				continue
			}
			deps := ours(p.Deps)
			if r.direct {
				deps = ours(p.Imports)
			}
			for _, dep := range deps {
				if !r.allow(path, dep) {
					bad = append(bad, fmt.Sprintf("%s: %s%s imports %s%s%s", r.why, mod, path, mod, dep, through(p, byPath, dep)))
				}
			}
		}
	}
	slices.Sort(bad)
	return bad
}

// through names the direct import of p that brings dep, when dep is not
// one itself.
func through(p pkg, byPath map[string]pkg, dep string) string {
	direct := ours(p.Imports)
	if slices.Contains(direct, dep) {
		return ""
	}
	for _, d := range direct {
		if slices.Contains(ours(byPath[d].Deps), dep) {
			return " (through " + mod + d + ")"
		}
	}
	return ""
}

// goList lists the module's packages.
func goList(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", mod+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages: not the module", len(pkgs))
	}
	return pkgs
}

func TestImportGraph(t *testing.T) {
	for _, v := range check(goList(t), rules) {
		t.Error(v)
	}
}

// TestImportRulesCatchViolations: the checker reports an import each rule
// forbids, directly or through another package, and names the path.
func TestImportRulesCatchViolations(t *testing.T) {
	graph := []pkg{
		{ImportPath: mod + "provider", Imports: []string{mod + "storage", mod + "provider/member"},
			Deps: []string{mod + "storage", mod + "provider/member", mod + "provider/member/internal"}},
		{ImportPath: mod + "provider/member", Imports: []string{mod + "provider/member/internal"},
			Deps: []string{mod + "provider/member/internal"}},
		{ImportPath: mod + "provider/member/internal"},
		{ImportPath: mod + "storage"},
		{ImportPath: mod + "config", Imports: []string{"fmt", mod + "storage"}, Deps: []string{"fmt", mod + "storage"}},
		{ImportPath: mod + "cmd/tsubasa/internal/cli", Imports: []string{mod + "login-ui"}, Deps: []string{mod + "login-ui"}},
		{ImportPath: mod + "login-ui"},
	}
	got := strings.Join(check(graph, rules), "\n")
	for _, want := range []string{
		"the OpenID provider imports storage and the leaves acr, clientaddr, outbound and seal, and no other domain: tsubasa/provider imports tsubasa/provider/member\n",
		"tsubasa/provider imports tsubasa/provider/member/internal (through tsubasa/provider/member)",
		"config is plain data: it imports nothing of ours: tsubasa/config imports tsubasa/storage",
		"only the composition root builds the server",
		"tsubasa/cmd/tsubasa/internal/cli imports tsubasa/login-ui",
		`names tsubasa/provider/admin, which is not in the module`,
	} {
		if !strings.Contains(got+"\n", want) {
			t.Errorf("violations lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "tsubasa/provider/member imports") {
		t.Errorf("a domain's own sub-package reported:\n%s", got)
	}
}
