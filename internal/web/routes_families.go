package web

// familyRoutes are the routes of parents, pupils and consent.
func (s *Server) familyRoutes() []route {
	return []route{}
}
