package web

// trackingRoutes are the routes of tracking, chasing and evidence.
func (s *Server) trackingRoutes() []route {
	return []route{}
}
