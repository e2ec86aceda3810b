package clientaddr

import (
	"net/netip"
	"strings"
)

// forwardedHops parses Forwarded header fields (RFC 7239; several fields
// are one list, in order) into hops, left to right: the for= node of each
// element. An element that breaks the grammar is a malformed hop; so is
// the rest of a field after an unterminated quoted string, which swallows
// it. Empty elements are skipped.
func forwardedHops(fields []string) []hop {
	var hops []hop
	for _, f := range fields {
		for _, e := range splitUnquoted(f, ',') {
			if strings.Trim(e, " \t") == "" {
				continue
			}
			a, ok := parseForwardedElement(e)
			hops = append(hops, hop{addr: a, ok: ok})
		}
	}
	return hops
}

// splitUnquoted splits s at every sep outside a quoted string. A quoted
// string left open runs to the end of s (and fails to parse there).
func splitUnquoted(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++ // the escaped character, whatever it is
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// parseForwardedElement returns the address of an element's for= node.
// The grammar is RFC 7239's: pairs token "=" (token / quoted-string)
// separated by ";", each parameter at most once; spaces around a pair are
// tolerated. An element without for= says nothing about who sent it.
func parseForwardedElement(e string) (netip.Addr, bool) {
	var (
		node  string
		names []string
	)
	for _, pair := range splitUnquoted(e, ';') {
		pair = strings.Trim(pair, " \t")
		if pair == "" {
			continue // forwarded-element allows empty pairs
		}
		name, raw, found := strings.Cut(pair, "=")
		if !found || !isToken(name) {
			return netip.Addr{}, false
		}
		name = strings.ToLower(name)
		for _, n := range names {
			if n == name {
				return netip.Addr{}, false
			}
		}
		names = append(names, name)
		v, ok := parseValue(raw)
		if !ok {
			return netip.Addr{}, false
		}
		if name == "for" {
			node = v
		}
	}
	if node == "" {
		return netip.Addr{}, false
	}
	return parseForwardedNode(node)
}

// parseValue reads a token or a whole quoted string (with its quoted
// pairs undone). Control characters other than tab are refused.
func parseValue(raw string) (string, bool) {
	if !strings.HasPrefix(raw, `"`) {
		return raw, isToken(raw)
	}
	var b strings.Builder
	for i := 1; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '"':
			return b.String(), i == len(raw)-1
		case c == '\\':
			if i++; i == len(raw) || !textChar(raw[i]) {
				return "", false
			}
			b.WriteByte(raw[i])
		case textChar(c):
			b.WriteByte(c)
		default:
			return "", false
		}
	}
	return "", false // no closing quote
}

// parseForwardedNode reads a node (RFC 7239 section 6): an IPv4 address
// or a bracketed IPv6 address, each with an optional port (digits, or an
// obfuscated "_port"). "unknown" and obfuscated names are no address.
func parseForwardedNode(node string) (netip.Addr, bool) {
	if strings.HasPrefix(node, "[") {
		end := strings.IndexByte(node, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		a, ok := parseIP(node[1:end], true)
		if rest := node[end+1:]; rest != "" {
			p, found := strings.CutPrefix(rest, ":")
			ok = ok && found && nodePort(p)
		}
		if !ok {
			return netip.Addr{}, false
		}
		return a.Unmap(), true
	}
	host := node
	if h, p, found := strings.Cut(node, ":"); found {
		if !nodePort(p) {
			return netip.Addr{}, false
		}
		host = h
	}
	a, ok := parseIP(host, false)
	if !ok || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// nodePort is a port number or an obfuscated port ("_" and then letters,
// digits, ".", "_" or "-").
func nodePort(s string) bool {
	if validPort(s) {
		return true
	}
	if len(s) < 2 || s[0] != '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// textChar is what a quoted string may hold: tab, space, visible ASCII
// and bytes of other encodings (obs-text), but no control character.
func textChar(c byte) bool {
	return c == '\t' || c >= 0x20 && c != 0x7f
}
