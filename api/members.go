package api

// routeMembers registers the members endpoints.
func (s *Server) routeMembers() {}
