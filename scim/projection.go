package scim

import (
	"net/url"
	"strings"
)

// projection is what the attributes and excludedAttributes parameters (RFC
// 7644 §3.9) ask of every resource answered. Paths are lowercase:
// "emails", "name.givenname", "urn:…:enterprise:2.0:user" (a whole
// extension) or "urn:…:enterprise:2.0:user:manager.value". A path of a
// core attribute may carry the core schema's URN. "id" and "schemas" are
// always returned; with attributes, everything else only when asked for
// (meta included). When both parameters are given, attributes wins.
type projection struct {
	include []string
	exclude []string
}

// viewFromQuery reads the projection of a request's query.
func viewFromQuery(q url.Values) projection {
	return newProjection(q.Get("attributes"), q.Get("excludedAttributes"))
}

func newProjection(include, exclude string) projection {
	split := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
				out = append(out, stripCoreURN(p))
			}
		}
		return out
	}
	p := projection{include: split(include)}
	if len(p.include) == 0 {
		p.exclude = split(exclude)
	}
	return p
}

// coreURNs are the core schemas whose URN a path may carry.
var coreURNs = []string{
	"urn:ietf:params:scim:schemas:core:2.0:user:",
	"urn:ietf:params:scim:schemas:core:2.0:group:",
}

func stripCoreURN(p string) string {
	for _, u := range coreURNs {
		if strings.HasPrefix(p, u) {
			return p[len(u):]
		}
	}
	return p
}

// given reports whether the request asked for a projection at all.
func (p projection) given() bool { return len(p.include)+len(p.exclude) > 0 }

// wants reports whether the answer includes attribute name (lowercase), or
// some of it: "members" is not wanted with excludedAttributes=members, nor
// with attributes=displayName, so its rows need not be read.
func (p projection) wants(name string) bool {
	if len(p.include) > 0 {
		for _, q := range p.include {
			if q == name || strings.HasPrefix(q, name+".") {
				return true
			}
		}
		return false
	}
	for _, q := range p.exclude {
		if q == name {
			return false
		}
	}
	return true
}

// apply trims doc, a resource, in place.
func (p projection) apply(doc map[string]any) {
	switch {
	case len(p.include) > 0:
		for k, v := range doc {
			key := strings.ToLower(k)
			if key == "id" || key == "schemas" {
				continue
			}
			if kept, ok := p.keep(key, v); ok {
				doc[k] = kept
			} else {
				delete(doc, k)
			}
		}
	case len(p.exclude) > 0:
		for _, q := range p.exclude {
			drop(doc, q)
		}
	}
}

// keep returns what of attribute key (lowercase) with value v the include
// paths (relative to the attribute's parent) ask for, and false when
// nothing.
func (p projection) keep(key string, v any) (any, bool) {
	sep := "."
	if isURN(key) {
		sep = ":"
	}
	var subs []string
	for _, q := range p.include {
		switch {
		case q == key:
			return v, true
		case strings.HasPrefix(q, key+sep):
			subs = append(subs, q[len(key)+1:])
		}
	}
	if len(subs) == 0 {
		return nil, false
	}
	return keepSubs(v, projection{include: subs})
}

// keepSubs keeps the sub-attributes sub asks for of a complex value, or of
// each element of a multi-valued one.
func keepSubs(v any, sub projection) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if kept, ok := sub.keep(strings.ToLower(k), x); ok {
				out[k] = kept
			}
		}
		return out, len(out) > 0
	case []any:
		var out []any
		for _, e := range v {
			if kept, ok := keepSubs(e, sub); ok {
				out = append(out, kept)
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// drop removes path q (lowercase) from doc: an attribute, an extension, an
// extension's attribute, or a sub-attribute (of every element of a
// multi-valued attribute).
func drop(doc map[string]any, q string) {
	if q == "id" || q == "schemas" {
		return
	}
	for k, v := range doc {
		key := strings.ToLower(k)
		switch {
		case key == q:
			delete(doc, k)
		case isURN(key) && strings.HasPrefix(q, key+":"):
			if ext, ok := v.(map[string]any); ok {
				drop(ext, q[len(key)+1:])
			}
		case strings.HasPrefix(q, key+"."):
			switch v := v.(type) {
			case map[string]any:
				drop(v, q[len(key)+1:])
			case []any:
				for _, e := range v {
					if m, ok := e.(map[string]any); ok {
						drop(m, q[len(key)+1:])
					}
				}
			}
		}
	}
}

// isURN reports whether an attribute key is a schema URN: an extension.
func isURN(key string) bool { return len(key) > 4 && strings.EqualFold(key[:4], "urn:") }
