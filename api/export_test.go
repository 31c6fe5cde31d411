package api

import "slices"

// MountedRoutes returns the patterns registered on the mux as they are,
// outside handle: SCIM, the single sign-on endpoints, metrics and the
// catch-all. With Routes they are every route the server answers.
func (s *Server) MountedRoutes() []string { return slices.Clone(s.mounted) }
