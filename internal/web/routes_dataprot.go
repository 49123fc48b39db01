package web

// dataProtectionRoutes are the routes of data protection: subject access
// downloads (the office's for anyone, a parent's for their own family),
// legal holds and the retention schedule.
func (s *Server) dataProtectionRoutes() []route {
	return []route{
		{"GET", "/admin/people/{personID}/subject-access.zip", admin, s.subjectAccessZip},
		{"GET", "/admin/people/{personID}/hold", admin, s.holdForm},
		{"POST", "/admin/people/{personID}/hold", admin, s.holdPlace},
		{"POST", "/admin/people/{personID}/hold/lift", admin, s.holdLift},
		{"GET", "/admin/retention", admin, s.retentionPage},
		{"POST", "/admin/retention", admin, s.retentionSave},
		{"POST", "/admin/retention/run", admin, s.retentionRun},
		{"GET", "/family/records.zip", parent, s.familyRecordsZip},
	}
}
