package directory

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// Secrets Gatehouse must read back — service provider private keys, OIDC
// client secrets — are sealed with AES-256-GCM under the store's secret
// key before they reach the database, so a copy of the database alone
// does not hold them. The key comes from configuration (SetSecretKey);
// every replica needs the same one.

// SecretKeySize is the length of the store's secret key.
const SecretKeySize = 32

// sealedPrefix marks a sealed value and the scheme that sealed it.
const sealedPrefix = "gcm1:"

// SetSecretKey sets the key secrets are sealed with. Without one, writing
// or reading a sealed secret fails with an error that says so.
func (s *Store) SetSecretKey(key []byte) error {
	if len(key) != SecretKeySize {
		return fmt.Errorf("the secret key must be %d bytes, not %d", SecretKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	s.sealer = aead
	return nil
}

var errNoSecretKey = Errorf(Invalid, "this server has no secret key configured (gatehouse serve --secret-key or GATEHOUSE_SECRET_KEY), so secrets cannot be stored")

// seal encrypts plain; the organization id is bound in as associated data,
// so a sealed value cannot be moved to another organization's row.
func (s *Store) seal(orgID, plain string) (string, error) {
	if s.sealer == nil {
		return "", errNoSecretKey
	}
	nonce := make([]byte, s.sealer.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", internal(err, "seal a secret")
	}
	out := s.sealer.Seal(nonce, nonce, []byte(plain), []byte(orgID))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// unseal reverses seal.
func (s *Store) unseal(orgID, sealed string) (string, error) {
	if s.sealer == nil {
		return "", errNoSecretKey
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	if !strings.HasPrefix(sealed, sealedPrefix) || err != nil || len(raw) < s.sealer.NonceSize() {
		return "", Errorf(Internal, "a stored secret is not sealed as this version seals them")
	}
	n := s.sealer.NonceSize()
	plain, err := s.sealer.Open(nil, raw[:n], raw[n:], []byte(orgID))
	if err != nil {
		return "", Errorf(Internal, "a stored secret does not open with the configured secret key; was the key changed?")
	}
	return string(plain), nil
}
