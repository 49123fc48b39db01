package web

import (
	"signoff/internal/auth"
	"signoff/internal/people"
)

// classroom is who sees class lists and a child's consent details: the
// office, and the staff who teach or support a class (teachers, teaching
// assistants, support staff). Governors, volunteers and contractors never
// do.
var classroom = access{roles: []auth.Role{auth.Staff, auth.Admin},
	staffRoles: []people.StaffRole{people.Teacher, people.TeachingAssistant, people.Support},
	refused:    "Class lists and consent details are for teaching and support staff and the office"}

// familyRoutes are the routes of parents, pupils and consent: the
// parent's pages (reached with a family link), the staff's class lists,
// quick check and class mode, and the office's parents' forms.

func (s *Server) familyRoutes() []route {
	return []route{
		{"GET", "/family", parent, s.snapshotCache(s.familyHome)}, // docs/page-cache.md
		{"GET", "/family/children/{pupilID}", parent, s.familyChild},
		{"GET", "/family/children/{pupilID}/forms/{formID}", parent, s.parentForm},
		{"POST", "/family/children/{pupilID}/forms/{formID}", parent, s.parentFormSubmit},
		{"GET", "/family/children/{pupilID}/forms/{formID}/change", parent, s.parentChangeConfirm},
		{"POST", "/family/children/{pupilID}/forms/{formID}/change", parent, s.parentChange},
		{"GET", "/family/records/{ref}", parent, s.familyRecordPage},
		{"GET", "/family/records/{ref}/copy.pdf", parent, s.familyRecordPDF},

		{"GET", "/classes/photos", classroom, s.classList},
		{"GET", "/classes/photos.csv", classroom, s.classListCSV},
		{"GET", "/check", classroom, s.quickCheck},
		{"GET", "/class-mode", classroom, s.classMode},
		{"GET", "/class-mode/{formID}/pupils/{pupilID}", classroom, s.classModeSign},
		{"POST", "/class-mode/{formID}/pupils/{pupilID}", classroom, s.classModeSubmit},

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
		{"GET", "/admin/consents/{formID}/letters/{batchID}.pdf", admin, s.consentLettersPDF},
	}
}
