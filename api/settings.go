package api

// routeSettings registers the settings endpoints.
func (s *Server) routeSettings() {}
