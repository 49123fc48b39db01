package web

// evidenceRoutes are the routes of the audit log's anchors.
func (s *Server) evidenceRoutes() []route {
	return []route{
		{"GET", "/admin/audit/anchors", admin, s.anchorsPage},
		{"POST", "/admin/audit/anchors", admin, s.anchorNow},
		{"POST", "/admin/audit/anchors/email", admin, s.anchorEmailSave},
	}
}
