package web

import "signoff/internal/auth"

// familyRoutes are the routes of parents, pupils and consent: the
// parent's pages (reached with a family link), the staff's class lists,
// quick check and class mode, and the office's parents' forms.
// classroom is staff and the office; the handlers then let through only
// teaching and support staff (see classroomStaff).
var classroom = access{roles: []auth.Role{auth.Staff, auth.Admin}}

func (s *Server) familyRoutes() []route {
	return []route{
		{"GET", "/family", parent, s.familyHome},
		{"GET", "/family/children/{pupilID}", parent, s.familyChild},
		{"GET", "/family/children/{pupilID}/forms/{formID}", parent, s.parentForm},
		{"POST", "/family/children/{pupilID}/forms/{formID}", parent, s.parentFormSubmit},
		{"GET", "/family/children/{pupilID}/forms/{formID}/change", parent, s.parentChangeConfirm},
		{"POST", "/family/children/{pupilID}/forms/{formID}/change", parent, s.parentChange},
		{"GET", "/family/records/{ref}", parent, s.familyRecordPage},
		{"GET", "/family/records/{ref}/copy.pdf", parent, s.familyRecordPDF},

		{"GET", "/classes/photos", classroom, s.classroomStaff(s.classList)},
		{"GET", "/classes/photos.csv", classroom, s.classroomStaff(s.classListCSV)},
		{"GET", "/check", classroom, s.classroomStaff(s.quickCheck)},
		{"GET", "/class-mode", classroom, s.classroomStaff(s.classMode)},
		{"GET", "/class-mode/{formID}/pupils/{pupilID}", classroom, s.classroomStaff(s.classModeSign)},
		{"POST", "/class-mode/{formID}/pupils/{pupilID}", classroom, s.classroomStaff(s.classModeSubmit)},

		{"GET", "/admin/consents", admin, s.consentList},
		{"GET", "/admin/consents/new", admin, s.consentNewForm},
		{"POST", "/admin/consents", admin, s.consentCreate},
		{"GET", "/admin/consents/{formID}", admin, s.consentShow},
		{"POST", "/admin/consents/{formID}/school", admin, s.consentSignSchool},
		{"POST", "/admin/consents/{formID}/close", admin, s.consentClose},
		{"GET", "/admin/consents/{formID}/paper", admin, s.paperForm},
		{"POST", "/admin/consents/{formID}/paper", admin, s.paperSubmit},
		{"GET", "/admin/records/{ref}/scan", admin, s.recordScan},
		{"POST", "/admin/consents/{formID}/letters", admin, s.consentLetters},
	}
}
