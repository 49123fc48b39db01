package web_test

// The anchors' routes in the permission table: the office only.
func init() {
	for k, v := range map[string][]string{
		"GET /admin/audit/anchors":        ADMIN,
		"POST /admin/audit/anchors":       ADMIN,
		"POST /admin/audit/anchors/email": ADMIN,
	} {
		expected[k] = v
	}
}
