package web_test

// The tracking area's routes in the permission table. "/trust" is for
// trust administrators only, a role none of the matrix's clients hold
// (TestTrustView signs one in).
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
		"GET /trust":        {},
		"GET /verify":       ALL,
		"POST /verify":      ALL,
		"GET /verify/{ref}": ALL,
	} {
		expected[k] = v
	}
}
