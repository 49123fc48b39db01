package web

import (
	"net/http"
	"strconv"

	"signoff/internal/auth"
)

// trustAdmin is a trust's administrators: every school of the trust side by side.
var trustAdmin = access{roles: []auth.Role{auth.TrustAdmin}}

// trackingRoutes are the routes of tracking, chasing and evidence. The
// dashboards, their lists and exports and the trust view are served
// through the page cache (s.snapshotCache, pagecache.go), after their
// access check like every route.
func (s *Server) trackingRoutes() []route {
	return []route{
		{"GET", "/admin/tracking", admin, s.snapshotCache(s.trackSchool)},
		{"GET", "/admin/tracking/export", admin, s.snapshotCache(s.trackExport)},
		{"GET", "/admin/tracking/report.pdf", admin, s.trackReport},
		{"GET", "/admin/tracking/schedule", admin, s.trackSchedule},
		{"POST", "/admin/tracking/schedule", admin, s.trackScheduleSave},
		{"GET", "/admin/tracking/forms/{formID}", admin, s.snapshotCache(s.trackForm)},
		{"POST", "/admin/tracking/forms/{formID}/reminders", admin, s.trackRemind},
		{"GET", "/admin/tracking/forms/{formID}/chase", admin, s.trackChase},
		{"GET", "/admin/tracking/forms/{formID}/export", admin, s.snapshotCache(s.trackExport)},
		{"GET", "/admin/tracking/forms/{formID}/copies.zip", admin, s.trackZip},
		{"GET", "/trust", trustAdmin, s.snapshotCache(s.trackTrust)},
		{"GET", "/trust/schools", trustAdmin, s.trustSchools},
		{"GET", "/trust/schools/new", trustAdmin, s.trustSchoolNew},
		{"POST", "/trust/schools", trustAdmin, s.trustSchoolCreate},
		{"GET", "/trust/admins", trustAdmin, s.trustAdmins},
		{"POST", "/trust/admins", trustAdmin, s.trustAdminGrant},
		{"POST", "/trust/admins/{accountID}/remove", trustAdmin, s.trustAdminRemove},

		{"GET", "/verify", anyone, s.verifyForm},
		{"POST", "/verify", anyone, s.verifyUpload},
		{"GET", "/verify/result", anyone, s.verifyUploaded},
		{"GET", "/verify/{ref}", anyone, s.verifyLink},

		// Retired: the first office overview ("Who has signed", staff
		// forms only) and its page of one form.
		{"GET", "/admin", admin, moved(func(*http.Request) string { return "/admin/tracking" })},
		{"GET", "/admin/forms/{formID}", admin, moved(trackFormPath)},
	}
}

// trackFormPath is the tracking page of the form in the path.
func trackFormPath(r *http.Request) string {
	id, err := idParam(r, "formID")
	if err != nil {
		return "/admin/tracking"
	}
	return "/admin/tracking/forms/" + strconv.FormatInt(id, 10)
}
