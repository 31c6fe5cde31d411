package api

// routeAudit registers the audit endpoints.
func (s *Server) routeAudit() {}
