package api

// routeTeams registers the teams endpoints.
func (s *Server) routeTeams() {}
