package web

import (
	"fmt"
	"net/http"
	"strconv"

	"signoff/internal/policies"
	"signoff/templates"
)

// The comparison of any two versions of a policy, changes marked.

// policyCompare shows the changes between any two versions.
func (s *Server) policyCompare(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	p, ok := s.policyOf(w, r)
	if !ok {
		return
	}
	id := p.ID
	versions, err := s.policies.Versions(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	find := func(param string, def int) *policies.Version {
		n, err := strconv.Atoi(r.URL.Query().Get(param))
		if err != nil {
			n = def
		}
		for i := range versions {
			if versions[i].Number == n {
				return &versions[i]
			}
		}
		return nil
	}
	if len(versions) == 0 {
		s.notFound(w, r)
		return
	}
	to := find("to", versions[0].Number)
	from := find("from", max(1, versions[0].Number-1))
	if to == nil || from == nil {
		s.notFound(w, r)
		return
	}
	page := fmt.Sprintf("/policies/%d/compare?from=%d&to=%d", id, from.Number, to.Number)
	view := templates.PolicyCompareView{Layout: s.lifecycleLayout(r, "Changes: "+p.Title), Title: p.Title, BackHref: fmt.Sprintf("/policies/%d", id),
		Heading: fmt.Sprintf("Changes from version %d to version %d", from.Number, to.Number),
		Diff:    diffView(policies.CompareDocuments(from.Body, to.Body), r.URL.Query().Get("whole") == "1", page, "Version "+strconv.Itoa(to.Number)+" with its changes marked", 2),
		From:    strconv.Itoa(from.Number), To: strconv.Itoa(to.Number), Action: fmt.Sprintf("/policies/%d/compare", id)}
	view.Versions = versionOptions(versions)
	s.render(w, r, http.StatusOK, templates.PolicyComparePage(view))
}
