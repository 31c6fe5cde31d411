package api

// routeTokens registers the tokens endpoints.
func (s *Server) routeTokens() {}
