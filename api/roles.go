package api

// routeRoles registers the roles endpoints.
func (s *Server) routeRoles() {}
