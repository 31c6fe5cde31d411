package oidc

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// maxPeekBytes bounds the token UnverifiedIssuer reads; Verify applies the
// configured limit afterwards.
const maxPeekBytes = 64 << 10

// UnverifiedIssuer returns the iss claim of a compact JWT without
// verifying anything. It only tells which registration to verify the
// token against: nothing read here may be trusted until Verify, given that
// registration, accepts the token.
func UnverifiedIssuer(raw string) (string, error) {
	if len(raw) > maxPeekBytes {
		return "", tooLarge(maxPeekBytes)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", refuse(ReasonMalformed, errors.New("not a compact JWT"))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", refuse(ReasonMalformed, err)
	}
	var claims struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Issuer == "" {
		return "", refuse(ReasonMalformed, errors.New("no iss claim"))
	}
	return claims.Issuer, nil
}
