package scim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim"

	"github.com/gatehouse/gatehouse/directory"
)

// Identity providers page through /Groups with excludedAttributes=members
// to find groups by name, a thousand at a time. Decoding every stored
// document into maps and encoding the maps again cost most of such an
// answer, so a page of groups without members is written straight from
// the stored documents: their attributes are copied as stored, and only
// id, externalId, displayName, meta and schemas are written around them.
// The answer is the one render and present give; a test holds the two
// paths to that.

// plainGroups reports whether view asks for every attribute of a group but
// its members.
func (p projection) plainGroups() bool {
	return len(p.include) == 0 && len(p.exclude) == 1 && p.exclude[0] == "members"
}

// appendPlainGroup appends the answer form of g without members to out.
func appendPlainGroup(out []byte, rt *scim.ResourceType, g directory.Group, base string) ([]byte, error) {
	var stored map[string]json.RawMessage
	if len(g.SCIM) > 0 {
		if err := json.Unmarshal(g.SCIM, &stored); err != nil {
			return nil, fmt.Errorf("group %s: stored SCIM document: %w", g.ID, err)
		}
	}
	keys := make([]string, 0, len(stored))
	var other []string // extension URNs the resource type does not declare
	for k, v := range stored {
		if unkept[strings.ToLower(k)] || k == "displayName" {
			continue
		}
		keys = append(keys, k)
		if isURN(k) && len(v) > 0 && v[0] == '{' {
			if _, known := extensionOf(rt, k); !known {
				other = append(other, k)
			}
		}
	}
	slices.Sort(keys)
	slices.Sort(other)

	out = append(out, `{"id":`...)
	out = strconv.AppendQuote(out, g.ID)
	out = appendField(out, "displayName", g.DisplayName)
	if g.ExternalID != "" {
		out = appendField(out, "externalId", g.ExternalID)
	}
	for _, k := range keys {
		out = append(out, ',')
		out = appendJSONString(out, k)
		out = append(out, ':')
		out = append(out, stored[k]...)
	}
	out = append(out, `,"meta":{"resourceType":`...)
	out = appendJSONString(out, rt.Name)
	out = appendField(out, "location", base+rt.Endpoint+"/"+url.PathEscape(g.ID))
	out = append(out, `,"created":"`...)
	out = g.CreatedAt.AppendFormat(out, time.RFC3339)
	out = append(out, `","lastModified":"`...)
	out = g.UpdatedAt.AppendFormat(out, time.RFC3339)
	out = append(out, `","version":"W/\"`...)
	out = strconv.AppendInt(out, g.Version, 10)
	out = append(out, `\""`...)
	out = append(out, `},"schemas":[`...)
	out = appendJSONString(out, rt.Schema.ID)
	for _, e := range rt.SchemaExtensions {
		if v, ok := stored[e.Schema.ID]; ok && len(v) > 0 && v[0] == '{' {
			out = append(out, ',')
			out = appendJSONString(out, e.Schema.ID)
		}
	}
	for _, k := range other {
		out = append(out, ',')
		out = appendJSONString(out, k)
	}
	return append(out, "]}"...), nil
}

// appendField appends ,"name":"value".
func appendField(out []byte, name, value string) []byte {
	out = append(out, ',')
	out = appendJSONString(out, name)
	out = append(out, ':')
	return appendJSONString(out, value)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it: ids, names and dates are copied as they are, anything with a
// character JSON or HTML would escape goes through the encoder.
func appendJSONString(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(out, raw...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}
