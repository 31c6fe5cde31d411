package authz

// RuleMatch says which entities an entity rule of a custom role covers.
type RuleMatch string

const (
	MatchDirect RuleMatch = "direct" // the entities listed in EntityIDs
	MatchAll    RuleMatch = "all"    // every entity of the type
	MatchTags   RuleMatch = "tags"   // entities whose tags meet every condition
)

// EntityRule gives Level on the entities of EntityType that Match selects.
type EntityRule struct {
	EntityType EntityType     `json:"entity_type"`
	Level      Level          `json:"level"`
	Match      RuleMatch      `json:"match"`
	EntityIDs  []string       `json:"entity_ids,omitempty"`
	Tags       []TagCondition `json:"tags,omitempty"`
}

// TagOp is how a tag condition tests a tag.
type TagOp string

const (
	TagEquals TagOp = "equals" // the tag is present with exactly Value
	TagExists TagOp = "exists" // the tag is present with any value
)

// TagCondition tests one tag of an entity.
type TagCondition struct {
	Key   string `json:"key"`
	Op    TagOp  `json:"op"`
	Value string `json:"value,omitempty"`
}

// Matches reports whether tags satisfy c.
func (c TagCondition) Matches(tags map[string]string) bool {
	v, ok := tags[c.Key]
	if !ok {
		return false
	}
	return c.Op == TagExists || v == c.Value
}
