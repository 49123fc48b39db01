package web

import (
	"errors"
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

// maxPage is the highest page number a list accepts; beyond it is the
// last page anyway, and it keeps offsets far from overflowing.
const maxPage = 100_000

// pageParam reads a page number: 1 when missing or not a number, at most
// maxPage.
func pageParam(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil && !errors.Is(err, strconv.ErrRange) || n < 1 {
		return 1
	}
	return min(n, maxPage)
}

// cursorParam reads an optional positive id used as a paging cursor
// ("before"): 0 when missing or malformed, an error when out of range.
func cursorParam(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, apperr.New(apperr.NotFound, "Page not found")
	}
	return n, nil
}
