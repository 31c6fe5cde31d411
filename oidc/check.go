package oidc

import "context"

// CheckKeys fetches iss's keys, or parses its static ones, and says why
// they could not verify a token: a registration is checked with it before
// it is stored, so that a wrong URL or pin fails when an administrator is
// there to see it rather than at a workload's first exchange. The keys
// stay cached for the tokens that follow.
func (v *Verifier) CheckKeys(ctx context.Context, iss Issuer) error {
	ks, err := v.keySet(iss)
	if err != nil {
		return err
	}
	if _, fresh := ks.current(); fresh {
		return nil
	}
	if _, err := ks.refresh(ctx); err != nil {
		return asKeysUnavailable(err)
	}
	return nil
}
