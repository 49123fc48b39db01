package web_test

// The tracking area's routes in the permission table. "/trust" and the
// trust's own pages are for trust administrators only.
func init() {
	for k, v := range map[string][]string{
		"GET /admin/tracking":                           ADMIN,
		"GET /admin/tracking/export":                    ADMIN,
		"GET /admin/tracking/report.pdf":                ADMIN,
		"GET /admin/tracking/schedule":                  ADMIN,
		"POST /admin/tracking/schedule":                 ADMIN,
		"GET /admin/tracking/forms/{formID}":            ADMIN,
		"POST /admin/tracking/forms/{formID}/reminders": ADMIN,
		"GET /admin/tracking/forms/{formID}/chase":      ADMIN,
		"GET /admin/tracking/forms/{formID}/export":     ADMIN,
		"GET /admin/tracking/forms/{formID}/copies.zip": ADMIN,
		"GET /trust":                            {"trust"},
		"GET /trust/schools":                    {"trust"},
		"GET /trust/schools/new":                {"trust"},
		"POST /trust/schools":                   {"trust"},
		"GET /trust/admins":                     {"trust"},
		"POST /trust/admins":                    {"trust"},
		"POST /trust/admins/{accountID}/remove": {"trust"},
		"GET /verify":                           ALL,
		"POST /verify":                          ALL,
		"GET /verify/result":                    ALL,
		"GET /verify/{ref}":                     ALL,
		"GET /admin/people":                     ADMIN,
		"GET /admin/more":                       ADMIN,
	} {
		expected[k] = v
	}
}
