package web

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
)

// idParam reads a numeric id from the path; anything else is not found.
func idParam(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "Page not found")
	}
	return id, nil
}
