package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/policies"
	"signoff/templates"
	"signoff/templates/components"
)

// The starter set of common school policies, adopted as drafts.

// policyStarterForm offers the starter set.
func (s *Server) policyStarterForm(w http.ResponseWriter, r *http.Request) {
	s.starterPage(w, r, nil, nil)
}

// policyStarterAdopt adds the chosen starter policies as drafts.
func (s *Server) policyStarterAdopt(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	_ = r.ParseForm()
	keys := r.PostForm["starter"]
	n, err := s.policies.AdoptStarters(r.Context(), v.school.ID, v.account.Actor(clientIP(r)), keys)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.starterPage(w, r, keys, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/policies?adopted=%d", n), http.StatusSeeOther)
}

func (s *Server) starterPage(w http.ResponseWriter, r *http.Request, chosen []string, err error) {
	v := viewerOf(r)
	have := map[string]bool{}
	if list, _, lerr := s.policies.Library(r.Context(), v.school.ID); lerr == nil {
		for _, l := range list {
			have[strings.ToLower(l.Title)] = true
		}
	}
	view := templates.PolicyStarterView{Layout: s.lifecycleLayout(r, "Add policies from the starter set"), Errors: viewErrors(err)}
	view.Layout.HasErrors = err != nil
	view.Starters = components.ChoiceProps{ID: "starter", Name: "starter", Legend: "Choose the policies to add", Hint: "Policies you already have are not listed.",
		Error: view.Errors.Get("starter"), Small: true}
	for _, st := range policies.Starters {
		if have[strings.ToLower(st.Title)] {
			continue
		}
		hint := st.Category + " · " + cycleLabel(st.Cycle) + " · approved by " + strings.ToLower(st.Level.Label())
		if st.Statutory {
			hint = "Statutory · " + hint
		}
		view.Starters.Options = append(view.Starters.Options, components.Option{Value: st.Key, Label: st.Title, Hint: hint, Checked: slices.Contains(chosen, st.Key)})
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, templates.PolicyStarterPage(view))
}
