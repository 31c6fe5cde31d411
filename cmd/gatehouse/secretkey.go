package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse/gatehouse/directory"
)

// The secret key seals the secrets Gatehouse must read back (SAML service
// provider keys, OIDC client secrets). --secret-key gives it as 32 bytes in
// base64 or hex; every replica needs the same one. On the embedded SQLite
// store without a flag, a key is made on the first start and kept in
// secret.key beside the database (mode 0600), so `make run` needs no setup.
// On PostgreSQL without a key, single sign-on connections cannot be
// stored, and serve says so at start.

// secretKeyFile is the key file's name in the data folder.
const secretKeyFile = "secret.key"

// secretKey returns the key from flag, from the data folder, or nil with a
// warning when there is none.
func secretKey(flag string, g *globals) ([]byte, string, error) {
	if flag != "" {
		key, err := decodeSecretKey(flag)
		return key, "", err
	}
	if g.databaseURL != "" {
		return nil, "no --secret-key (GATEHOUSE_SECRET_KEY): SAML connections cannot be stored until one is set; make one with: head -c 32 /dev/urandom | base64", nil
	}
	path := filepath.Join(g.data, secretKeyFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, directory.SecretKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, "", err
		}
		if err := os.MkdirAll(g.data, 0o700); err != nil {
			return nil, "", err
		}
		enc := base64.StdEncoding.EncodeToString(key) + "\n"
		if err := os.WriteFile(path, []byte(enc), 0o600); err != nil {
			return nil, "", fmt.Errorf("write the secret key: %w", err)
		}
		return key, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read the secret key: %w", err)
	}
	key, err := decodeSecretKey(string(raw))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return key, "", nil
}

// decodeSecretKey reads 32 bytes in base64 (standard or URL alphabet) or
// hex.
func decodeSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString, base64.StdEncoding.DecodeString, base64.URLEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if key, err := dec(s); err == nil && len(key) == directory.SecretKeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("the secret key must be %d bytes in base64 or hex", directory.SecretKeySize)
}
