// Package apperr holds Signoff's domain errors: a code saying what kind of
// failure it is, a message fit to show a user, and per-field messages for
// forms. It knows nothing of HTTP or SQL; internal/web maps codes to
// status codes in one place.
package apperr

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Code classifies an error.
type Code string

// The codes.
const (
	Invalid         Code = "invalid"         // the input is wrong; see Fields
	NotFound        Code = "not_found"       // no such thing, or not yours to see
	Forbidden       Code = "forbidden"       // you may not do this
	Conflict        Code = "conflict"        // the state has moved on (already done, superseded)
	Unauthenticated Code = "unauthenticated" // sign in first, or the sign-in failed
	TooMany         Code = "too_many"        // rate limited
	Unavailable     Code = "unavailable"     // a service we depend on (an identity provider) did not answer
	Busy            Code = "busy"            // too much is being done at once: nothing was done, try again in a moment
	Internal        Code = "internal"        // our fault
)

// FieldError is a message about one form field, shown next to it and in
// the error summary.
type FieldError struct {
	Field   string
	Message string
}

// Error is a domain error.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 && e.Message == "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Fields[0].Field, e.Fields[0].Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// New returns an error with the code and a formatted message.
func New(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the user-facing message of err, or a generic one for
// internal errors (whose details are for the log, not the user).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "Sorry, something went wrong on our side. Please try again."
}

// FieldsOf returns the field errors carried by err.
func FieldsOf(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// FieldNames returns the fields err has messages for, in order,
// joined with commas ("email,password"), or "" for none.
func FieldNames(err error) string {
	var names []string
	for _, f := range FieldsOf(err) {
		names = append(names, f.Field)
	}
	return strings.Join(names, ",")
}

// Validation collects field errors in the order the fields appear.
type Validation struct{ fields []FieldError }

// Add records a message for field.
func (v *Validation) Add(field, message string) {
	v.fields = append(v.fields, FieldError{field, message})
}

// Check adds the message when ok is false.
func (v *Validation) Check(ok bool, field, message string) {
	if !ok {
		v.Add(field, message)
	}
}

// MaxLen adds "The <what> must be <max> characters or fewer" when value
// has more than max characters (runes, as the database counts them).
func (v *Validation) MaxLen(field, value string, max int, what string) {
	if len(value) > max && utf8.RuneCountInString(value) > max {
		v.Add(field, fmt.Sprintf("The %s must be %s characters or fewer", what, thousands(max)))
	}
}

// thousands writes n with commas: 200,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Has reports whether field already has a message.
func (v *Validation) Has(field string) bool {
	for _, f := range v.fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns nil when nothing was added, else an Invalid *Error.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Fields: v.fields}
}
