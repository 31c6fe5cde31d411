package scim

import "net/http"

// serviceProviderConfig answers GET /ServiceProviderConfig with what this
// service supports. The library's own answer claims no Bulk, sort or ETag
// support and fixes Bulk's limits, so the service answers it.
func (s *Service) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	c := callFrom(r.Context())
	supported := func(b bool) map[string]bool { return map[string]bool{"supported": b} }
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"patch":   supported(true),
		"bulk": map[string]any{
			"supported":      true,
			"maxOperations":  maxBulkOperations,
			"maxPayloadSize": s.opts.MaxBodyBytes,
		},
		"filter":         map[string]any{"supported": true, "maxResults": maxResults},
		"changePassword": supported(false),
		"sort":           supported(true),
		"etag":           supported(true),
		"authenticationSchemes": []map[string]any{{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "A SCIM token of the organization (gths_…), created in Gatehouse and sent as Authorization: Bearer TOKEN",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": c.base + "/ServiceProviderConfig"},
	})
}
