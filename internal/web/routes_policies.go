package web

// policyRoutes are the routes of the policy lifecycle: revisions, approval, reviews.
func (s *Server) policyRoutes() []route {
	return []route{}
}
