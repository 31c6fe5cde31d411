package console

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// samlConnection is the API's view of the SAML connection.
type samlConnection struct {
	Enabled           bool       `json:"enabled"`
	MetadataURL       string     `json:"metadata_url"`
	MetadataFetchedAt *time.Time `json:"metadata_fetched_at"`
	IdPEntityID       string     `json:"idp_entity_id"`
	IdPCertificates   []string   `json:"idp_certificate_fingerprints"`
	Attributes        attributes `json:"attributes"`
	JIT               bool       `json:"jit_provisioning"`
	GroupSync         bool       `json:"group_sync"`
	AllowIdPInitiated bool       `json:"allow_idp_initiated"`
	AllowedRedirects  []string   `json:"allowed_redirect_urls"`
	Audiences         []string   `json:"extra_audiences"`
	Version           int64      `json:"version"`
	ServiceProvider   struct {
		EntityID    string `json:"entity_id"`
		ACSURL      string `json:"acs_url"`
		MetadataURL string `json:"metadata_url"`
		LoginURL    string `json:"login_url"`
	} `json:"service_provider"`
}

// attributes name where a member's fields come from, in SAML attributes
// or OIDC claims alike.
type attributes struct {
	Email       string `json:"email"`
	GivenName   string `json:"given_name"`
	FamilyName  string `json:"family_name"`
	DisplayName string `json:"display_name"`
	Groups      string `json:"groups"`
}

// oidcConnection is the API's view of the OIDC sign-in connection.
type oidcConnection struct {
	Enabled          bool       `json:"enabled"`
	IssuerURL        string     `json:"issuer_url"`
	ClientID         string     `json:"client_id"`
	HasClientSecret  bool       `json:"has_client_secret"`
	Scopes           []string   `json:"scopes"`
	Claims           attributes `json:"claims"`
	JIT              bool       `json:"jit_provisioning"`
	GroupSync        bool       `json:"group_sync"`
	AllowedRedirects []string   `json:"allowed_redirect_urls"`
	Version          int64      `json:"version"`
	RedirectURI      string     `json:"redirect_uri"`
	LoginURL         string     `json:"login_url"`
}

type ssoData struct {
	SAML          samlConnection
	OIDC          oidcConnection
	NewSAML       bool // no SAML connection yet
	NewOIDC       bool // no OIDC connection yet
	SPMetadataURL string
	// The sign-in starts, with a return_to that brings the sign-in back
	// to the console.
	SAMLSignIn, OIDCSignIn string
}

func ssoPage(s *session) view {
	sso := "/sso/" + url.PathEscape(s.org) + "/"
	back := "?" + url.Values{"return_to": {Prefix + url.PathEscape(s.org) + "/"}}.Encode()
	d := ssoData{SPMetadataURL: sso + "saml/metadata", SAMLSignIn: sso + "saml/login" + back, OIDCSignIn: sso + "oidc/login" + back}
	d.NewSAML = optional(s, s.get(s.path("saml"), &d.SAML))
	d.NewOIDC = optional(s, s.get(s.path("oidc", "connection"), &d.OIDC))
	if !d.NewSAML && d.SAML.ServiceProvider.MetadataURL != "" {
		d.SPMetadataURL = d.SAML.ServiceProvider.MetadataURL
	}
	return view{Template: "sso", Title: "Single sign-on", Nav: "sso", Data: d}
}

// optional reads the answer of a GET of something that may not exist
// yet: it reports whether it is missing (404) and keeps any other error.
func optional(s *session, err error) (missing bool) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return true
	}
	if err != nil {
		s.fail(err)
	}
	return false
}

// lines splits a text area into its non-empty lines.
func lines(v string) []string {
	out := []string{}
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// checked reports whether the form's checkbox name is ticked.
func checked(s *session, name string) bool { return s.r.PostFormValue(name) != "" }

// formAttributes reads the attribute mapping fields.
func formAttributes(s *session) attributes {
	return attributes{Email: field(s, "attr_email"), GivenName: field(s, "attr_given_name"), FamilyName: field(s, "attr_family_name"),
		DisplayName: field(s, "attr_display_name"), Groups: field(s, "attr_groups")}
}

// saveSAML puts the SAML connection. The identity provider's metadata is
// a pasted document, an uploaded file, or a URL; the API parses it before
// saving anything.
func saveSAML(s *session) (outcome, error) {
	xml, err := metadataXML(s)
	if err != nil {
		return outcome{}, err
	}
	body := map[string]any{
		"enabled": checked(s, "enabled"), "metadata_url": field(s, "metadata_url"), "metadata_xml": xml,
		"attributes": formAttributes(s), "jit_provisioning": checked(s, "jit_provisioning"), "group_sync": checked(s, "group_sync"),
		"allow_idp_initiated": checked(s, "allow_idp_initiated"), "allowed_redirect_urls": lines(s.r.PostFormValue("allowed_redirect_urls")),
		"extra_audiences": lines(s.r.PostFormValue("extra_audiences")),
	}
	if err := s.sendIf(http.MethodPut, s.path("saml"), body, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "sso", flash: "SAML connection saved."}, nil
}

// metadataXML is the pasted metadata, else the uploaded file's.
func metadataXML(s *session) (string, error) {
	if pasted := strings.TrimSpace(s.r.PostFormValue("metadata_xml")); pasted != "" {
		return pasted, nil
	}
	f, _, err := s.r.FormFile("metadata_file")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return "", nil
	}
	if err != nil {
		return "", errorf(http.StatusBadRequest, "cannot read the uploaded metadata: %v", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxFormBytes))
	if err != nil {
		return "", errorf(http.StatusBadRequest, "cannot read the uploaded metadata: %v", err)
	}
	return strings.TrimSpace(string(raw)), nil
}

func refreshSAML(s *session) (outcome, error) {
	if err := s.send(http.MethodPost, s.path("saml", "metadata", "refresh"), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "sso", flash: "Metadata fetched again."}, nil
}

func deleteSAML(s *session) (outcome, error) {
	if err := s.send(http.MethodDelete, s.path("saml"), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "sso", flash: "SAML connection deleted."}, nil
}

// saveOIDCConnection puts the OIDC sign-in connection. An empty client
// secret keeps the stored one, as the API does.
func saveOIDCConnection(s *session) (outcome, error) {
	body := map[string]any{
		"enabled": checked(s, "enabled"), "issuer_url": field(s, "issuer_url"), "client_id": field(s, "client_id"),
		"client_secret": field(s, "client_secret"), "scopes": strings.Fields(s.r.PostFormValue("scopes")),
		"claims": formAttributes(s), "jit_provisioning": checked(s, "jit_provisioning"), "group_sync": checked(s, "group_sync"),
		"allowed_redirect_urls": lines(s.r.PostFormValue("allowed_redirect_urls")),
	}
	if err := s.sendIf(http.MethodPut, s.path("oidc", "connection"), body, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "sso", flash: "OIDC connection saved."}, nil
}

func deleteOIDCConnection(s *session) (outcome, error) {
	if err := s.send(http.MethodDelete, s.path("oidc", "connection"), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "sso", flash: "OIDC connection deleted."}, nil
}
