package authz

import "math/bits"

// scopeWords is the number of 64-bit words a ScopeSet needs to hold one bit
// per scope.
const scopeWords = (NumScopes + 63) / 64

// ScopeSet is a set of scopes, one bit per scope. It is a value: copying it
// copies the set, and == compares sets. The zero value is the empty set.
type ScopeSet [scopeWords]uint64

// NewScopeSet returns the set holding scopes.
func NewScopeSet(scopes ...Scope) ScopeSet {
	var s ScopeSet
	for _, sc := range scopes {
		s.Add(sc)
	}
	return s
}

// ParseScopeSet returns the set of the scopes named, resolving each name as
// ParseScope does. If any name is unknown, it returns an *UnknownScopeError
// naming all of them.
func ParseScopeSet(names []string) (ScopeSet, error) {
	var s ScopeSet
	var unknown []string
	for _, n := range names {
		sc, err := ParseScope(n)
		if err != nil {
			unknown = append(unknown, n)
			continue
		}
		s.Add(sc)
	}
	if unknown != nil {
		return ScopeSet{}, &UnknownScopeError{Names: unknown}
	}
	return s, nil
}

// Add puts sc in s. It panics if sc is not a valid scope.
func (s *ScopeSet) Add(sc Scope) {
	if !sc.Valid() {
		panic("authz: ScopeSet.Add of invalid " + sc.String())
	}
	s[sc/64] |= 1 << (sc % 64)
}

// Remove takes sc out of s.
func (s *ScopeSet) Remove(sc Scope) {
	if sc.Valid() {
		s[sc/64] &^= 1 << (sc % 64)
	}
}

// Has reports whether s holds sc.
func (s ScopeSet) Has(sc Scope) bool {
	return sc.Valid() && s[sc/64]&(1<<(sc%64)) != 0
}

// HasAll reports whether s holds every scope of o.
func (s ScopeSet) HasAll(o ScopeSet) bool {
	for i := range s {
		if o[i]&^s[i] != 0 {
			return false
		}
	}
	return true
}

// Union returns the set of scopes in s or o.
func (s ScopeSet) Union(o ScopeSet) ScopeSet {
	s.UnionWith(o)
	return s
}

// UnionWith adds every scope of o to s.
func (s *ScopeSet) UnionWith(o ScopeSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

// Minus returns the set of scopes in s but not in o.
func (s ScopeSet) Minus(o ScopeSet) ScopeSet {
	for i := range s {
		s[i] &^= o[i]
	}
	return s
}

// Count returns the number of scopes in s.
func (s ScopeSet) Count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// IsEmpty reports whether s holds no scope.
func (s ScopeSet) IsEmpty() bool { return s == ScopeSet{} }

// Equal reports whether s and o hold the same scopes.
func (s ScopeSet) Equal(o ScopeSet) bool { return s == o }

// Scopes returns the scopes in s in catalogue order.
func (s ScopeSet) Scopes() []Scope {
	out := make([]Scope, 0, s.Count())
	for i, w := range s {
		for w != 0 {
			out = append(out, Scope(i*64+bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return out
}

// Names returns the names of the scopes in s in catalogue order. A name
// appears twice if s holds both its organization-level and entity scope.
func (s ScopeSet) Names() []string {
	scopes := s.Scopes()
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = sc.Name()
	}
	return names
}
