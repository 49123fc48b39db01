package web_test

// The permission table of data protection: the office downloads anyone's
// subject access ZIP, places and lifts legal holds and keeps the
// retention schedule; a parent downloads only their own family's records.
func init() {
	for k, v := range map[string][]string{
		"GET /admin/people/{personID}/subject-access.zip": ADMIN,
		"GET /admin/people/{personID}/hold":               ADMIN,
		"POST /admin/people/{personID}/hold":              ADMIN,
		"POST /admin/people/{personID}/hold/lift":         ADMIN,
		"GET /admin/retention":                            ADMIN,
		"POST /admin/retention":                           ADMIN,
		"POST /admin/retention/run":                       ADMIN,
		"GET /family/records.zip":                         {"parent"},
	} {
		expected[k] = v
	}
}
