package directory

import (
	"context"

	"github.com/gatehouse/gatehouse/authz"
)

// BootstrapTokenName names the admin token Bootstrap creates.
const BootstrapTokenName = "bootstrap-admin"

// Bootstrap gives an empty directory its first organization, named name, and
// an organization token with the Admin role, so that a new installation can
// be administered at once. It returns the token's secret, shown this once.
//
// When any organization exists Bootstrap does nothing and returns "" — also
// when another replica starting at the same moment wins the race to create
// it. Should the process die between the two writes, the organization exists
// without a token; `gatehouse token create --org NAME --kind organization
// --role admin` makes one.
func (s *Store) Bootstrap(ctx context.Context, name string) (Organization, string, error) {
	var n int
	if err := s.get(ctx, &n, `SELECT COUNT(*) FROM organizations`); err != nil {
		return Organization{}, "", internal(err, "count organizations")
	}
	if n > 0 {
		return Organization{}, "", nil
	}
	org, secret, err := s.SeedOrganization(NewContextWithActor(ctx, SystemActor), name)
	if ErrorCode(err) == Conflict {
		return Organization{}, "", nil
	}
	return org, secret, err
}

// SeedOrganization creates an organization and an organization token with
// the Admin role named BootstrapTokenName, and returns the token's secret.
func (s *Store) SeedOrganization(ctx context.Context, name string) (Organization, string, error) {
	org, err := s.CreateOrganization(ctx, name, name)
	if err != nil {
		return Organization{}, "", err
	}
	_, secret, _, err := s.CreateToken(ctx, org.ID, NewToken{
		Kind:        authz.TokenOrganization,
		Name:        BootstrapTokenName,
		Description: "created with the organization; delete it once the organization has its own admins",
		Role:        authz.RoleAdmin,
	})
	if err != nil {
		return Organization{}, "", err
	}
	return org, secret, nil
}
