package web_test

// The permission table of parents, pupils and consent. "staff" (Daniel,
// a teacher) reaches the class lists; a governor never does (see
// TestGovernorsSeeNoConsentDetails).
func init() {
	CLASSROOM := []string{"staff", "admin", "staff+admin"}
	for k, v := range map[string][]string{
		"GET /family":                                           {"parent"},
		"GET /family/children/{pupilID}":                        {"parent"},
		"GET /family/children/{pupilID}/forms/{formID}":         {"parent"},
		"POST /family/children/{pupilID}/forms/{formID}":        {"parent"},
		"GET /family/children/{pupilID}/forms/{formID}/change":  {"parent"},
		"POST /family/children/{pupilID}/forms/{formID}/change": {"parent"},
		"GET /family/records/{ref}":                             {"parent"},
		"GET /family/records/{ref}/copy.pdf":                    {"parent"},
		"GET /classes/photos":                                   CLASSROOM,
		"GET /classes/photos.csv":                               CLASSROOM,
		"GET /check":                                            CLASSROOM,
		"GET /class-mode":                                       CLASSROOM,
		"GET /class-mode/{formID}/pupils/{pupilID}":             CLASSROOM,
		"POST /class-mode/{formID}/pupils/{pupilID}":            CLASSROOM,
		"GET /admin/consents":                                   ADMIN,
		"GET /admin/consents/new":                               ADMIN,
		"POST /admin/consents":                                  ADMIN,
		"GET /admin/consents/{formID}":                          ADMIN,
		"POST /admin/consents/{formID}/school":                  ADMIN,
		"POST /admin/consents/{formID}/close":                   ADMIN,
		"GET /admin/consents/{formID}/paper":                    ADMIN,
		"POST /admin/consents/{formID}/paper":                   ADMIN,
		"POST /admin/consents/{formID}/letters":                 ADMIN,
		"GET /admin/records/{ref}/scan":                         ADMIN,
	} {
		expected[k] = v
	}
}
