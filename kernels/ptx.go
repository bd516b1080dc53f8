package kernels

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	entryRe = regexp.MustCompile(`\.entry\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(`)
	paramRe = regexp.MustCompile(`\.param\s+(\.[a-z0-9]+)\s+([A-Za-z_][A-Za-z0-9_]*)`)
)

// ParsePTX returns the parameter types of every .entry in a PTX text, as PTX
// spells them (".u64", ".u32", ".f32", ...), keyed by kernel name.
func ParsePTX(ptx string) (map[string][]string, error) {
	out := map[string][]string{}
	rest := ptx
	for {
		loc := entryRe.FindStringSubmatchIndex(rest)
		if loc == nil {
			break
		}
		name := rest[loc[2]:loc[3]]
		body := rest[loc[1]:]
		end := strings.Index(body, ")")
		if end < 0 {
			return nil, fmt.Errorf("kernels: unterminated parameter list of %s", name)
		}
		var types []string
		for _, m := range paramRe.FindAllStringSubmatch(body[:end], -1) {
			types = append(types, m[1])
		}
		out[name] = types
		rest = body[end:]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("kernels: no .entry in PTX")
	}
	return out, nil
}
