package web

// familyRoutes are the routes of parents, pupils and consent: the
// parent's pages (reached with a family link), the staff's class lists,
// quick check and class mode, and the office's parents' forms.
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
	}
}
