package tracking

// Headline is the figures of one kind of form taken together: the staff's
// policies and agreements, or the parents' forms. The two kinds are never
// added into one figure: a signature and a child's returned form are not
// the same thing, and a school's hundreds of children would drown its
// forty staff.
type Headline struct {
	ForParents bool
	Forms      int // open forms of this kind
	FormsDone  int // of them, everyone asked has answered
	Audience   int // requests in all
	Signed     int
	Withdrawn  int
}

// Outstanding is how many requests are still to answer.
func (h Headline) Outstanding() int { return max(h.Audience-h.Signed-h.Withdrawn, 0) }

// Percent is the share of requests signed (100 when none are asked).
func (h Headline) Percent() int { return percent(h.Signed, h.Audience) }

// Headlines takes forms' figures (Forms) kind by kind: the staff's, then
// the parents'.
func Headlines(forms []FormFigures) (staff, parents Headline) {
	parents.ForParents = true
	for _, f := range forms {
		h := &staff
		if f.ForParents {
			h = &parents
		}
		h.Forms++
		h.Audience += f.Audience
		h.Signed += f.Signed
		h.Withdrawn += f.Withdrawn
		if f.Outstanding() <= 0 {
			h.FormsDone++
		}
	}
	return staff, parents
}
