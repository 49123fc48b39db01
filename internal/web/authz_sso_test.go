package web_test

// The single sign-on routes in the permission table: starting and
// finishing a sign-in are public; the settings are the office's and
// trust administrators' (for the schools of their trust).
// OFFICE is the office and trust administrators.
var OFFICE = []string{"admin", "staff+admin", "trust"}

func init() {
	for k, v := range map[string][]string{
		"GET /sign-in/sso":          ALL,
		"GET /sign-in/sso/callback": ALL,
		"GET /admin/sso":            OFFICE,
		"POST /admin/sso":           OFFICE,
		"GET /admin/sso/test":       OFFICE,
		"POST /admin/sso/remove":    OFFICE,
	} {
		expected[k] = v
	}
}
