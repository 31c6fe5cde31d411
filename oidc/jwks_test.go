package oidc

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func jwkJSON(t *testing.T, k jose.JSONWebKey) string {
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseJWKSKeepsUsableKeysOnly(t *testing.T) {
	testKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub := jwkJSON(t, jose.JSONWebKey{Key: &rsaKeys[0].PublicKey, KeyID: "rsa", Use: "sig"})
	for _, tc := range []struct {
		name, key string
		usable    bool
	}{
		{"an RSA signing key", rsaPub, true},
		{"an RSA key without use", jwkJSON(t, jose.JSONWebKey{Key: &rsaKeys[0].PublicKey, KeyID: "rsa"}), true},
		{"a P-256 key", jwkJSON(t, jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec"}), true},
		{"an RSA key for encryption", jwkJSON(t, jose.JSONWebKey{Key: &rsaKeys[0].PublicKey, KeyID: "enc", Use: "enc"}), false},
		{"a 1024-bit RSA key", jwkJSON(t, jose.JSONWebKey{Key: &small.PublicKey, KeyID: "small"}), false},
		{"a private RSA key", jwkJSON(t, jose.JSONWebKey{Key: rsaKeys[0], KeyID: "private"}), false},
		{"a symmetric key", `{"kty":"oct","kid":"hmac","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}`, false},
		{"a key of an unknown type", `{"kty":"PQC","kid":"future","x":"AAAA"}`, false},
		{"an RSA key without modulus", `{"kty":"RSA","kid":"broken","e":"AQAB"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := parseJWKS([]byte(`{"keys":[` + tc.key + `,` + rsaPub + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(idx.all) == 2; got != tc.usable {
				t.Errorf("usable = %v, want %v", got, tc.usable)
			}
		})
	}
}

func TestParseJWKSRefuses(t *testing.T) {
	testKeys(t)
	one := jwkJSON(t, jose.JSONWebKey{Key: &rsaKeys[0].PublicKey, KeyID: "rsa"})
	for _, tc := range []struct{ name, doc, want string }{
		{"not JSON", `keys`, "not a JSON Web Key Set"},
		{"no keys", `{"keys":[]}`, "no usable signing key"},
		{"only unusable keys", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, "no usable signing key"},
		{"101 keys", `{"keys":[` + strings.Repeat(one+",", 100) + one + `]}`, "101 keys, more than 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseJWKS([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestKeyLookup(t *testing.T) {
	testKeys(t)
	rsa1 := jwkJSON(t, jose.JSONWebKey{Key: &rsaKeys[0].PublicKey, KeyID: "a"})
	rsa2 := jwkJSON(t, jose.JSONWebKey{Key: &rsaKeys[1].PublicKey, KeyID: "b", Algorithm: "RS256"})
	ec := jwkJSON(t, jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "e"})
	for _, tc := range []struct {
		name, set, kid, alg string
		found               int
	}{
		{"a key by its id", rsa1 + "," + rsa2, "a", "RS256", 1},
		{"an RSA key for PS256", rsa1, "a", "PS256", 1},
		{"a key whose alg is another", rsa2, "b", "RS384", 0},
		{"an EC key for RS256 (key confusion)", ec, "e", "RS256", 0},
		{"an RSA key for ES256 (key confusion)", rsa1, "a", "ES256", 0},
		{"no key id with a single key", rsa1, "", "RS256", 1},
		{"no key id with two keys", rsa1 + "," + rsa2, "", "RS256", 0},
		{"an unknown key id", rsa1, "z", "RS256", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := parseJWKS([]byte(`{"keys":[` + tc.set + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(idx.lookup(tc.kid, tc.alg)); got != tc.found {
				t.Errorf("found %d keys, want %d", got, tc.found)
			}
		})
	}
}
