package saml

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"

	crewjam "github.com/crewjam/saml"

	"github.com/gatehouse/gatehouse/directory"
)

// Metadata answers GET /sso/{org}/saml/metadata: the service provider
// metadata to give the identity provider. It names every key of the
// connection, the active one and, during a rotation, the next one, each
// for signing and for encryption, so that the identity provider learns
// the next key before it becomes the active one. It is served for a
// connection that is not enabled yet, since setting up the identity
// provider needs it first.
func (s *Service) Metadata(w http.ResponseWriter, r *http.Request, org directory.Organization) {
	conn, err := s.cfg.Store.SAMLConnection(r.Context(), org.ID)
	if directory.ErrorCode(err) == directory.NotFound {
		http.Error(w, errNoConnection.Msg, http.StatusNotFound)
		return
	}
	if err != nil {
		s.internalError(w, "read SAML connection", err)
		return
	}
	body, err := s.spMetadata(r, org, conn)
	if err != nil {
		s.internalError(w, "build SAML metadata", err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(body)
}

// spMetadata renders the service provider metadata of org.
func (s *Service) spMetadata(r *http.Request, org directory.Organization, conn directory.SAMLConnection) ([]byte, error) {
	urls := s.Endpoints(r, org)
	entity, _ := url.Parse(urls.EntityID)
	acs, _ := url.Parse(urls.ACS)
	slo, _ := url.Parse(urls.SLO)
	sp := crewjam.ServiceProvider{
		EntityID: urls.EntityID, MetadataURL: *entity, AcsURL: *acs, SloURL: *slo,
		AuthnNameIDFormat: crewjam.UnspecifiedNameIDFormat, SignatureMethod: signatureMethod,
		LogoutBindings: []string{crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding},
	}
	ed := sp.Metadata()
	desc := &ed.SPSSODescriptors[0]
	desc.KeyDescriptors = keyDescriptors(conn.Keys)
	isDefault := true
	// Only the HTTP-POST binding: Gatehouse resolves no artifacts.
	desc.AssertionConsumerServices = []crewjam.IndexedEndpoint{{Binding: crewjam.HTTPPostBinding, Location: urls.ACS, Index: 1, IsDefault: &isDefault}}
	out, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

// keyDescriptors describes keys for signing and for encryption, the
// active key first.
func keyDescriptors(keys []directory.SPKey) []crewjam.KeyDescriptor {
	var out []crewjam.KeyDescriptor
	for _, state := range []string{directory.SPKeyActive, directory.SPKeyNext} {
		for _, k := range keys {
			if k.State != state {
				continue
			}
			der, err := certificateDER(k)
			if err != nil {
				continue
			}
			info := crewjam.KeyInfo{X509Data: crewjam.X509Data{X509Certificates: []crewjam.X509Certificate{{Data: base64.StdEncoding.EncodeToString(der)}}}}
			out = append(out,
				crewjam.KeyDescriptor{Use: "signing", KeyInfo: info},
				crewjam.KeyDescriptor{Use: "encryption", KeyInfo: info, EncryptionMethods: encryptionMethods})
		}
	}
	return out
}

// encryptionMethods are the algorithms the identity provider may encrypt
// assertions with: AES in CBC or GCM mode, keys wrapped with RSA-OAEP.
var encryptionMethods = []crewjam.EncryptionMethod{
	{Algorithm: "http://www.w3.org/2009/xmlenc11#aes128-gcm"},
	{Algorithm: "http://www.w3.org/2001/04/xmlenc#aes256-cbc"},
	{Algorithm: "http://www.w3.org/2001/04/xmlenc#aes128-cbc"},
	{Algorithm: "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"},
	{Algorithm: "http://www.w3.org/2009/xmlenc11#rsa-oaep"},
}

// internalError answers 500 and logs the cause, which the client never
// sees.
func (s *Service) internalError(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
