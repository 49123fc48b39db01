package apperr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"signoff/internal/apperr"
)

func TestCodesThroughWrapping(t *testing.T) {
	t.Parallel()
	base := apperr.New(apperr.NotFound, "There is no policy %d", 7)
	wrapped := fmt.Errorf("policies: get: %w", base)
	if apperr.CodeOf(wrapped) != apperr.NotFound || apperr.MessageOf(wrapped) != "There is no policy 7" {
		t.Fatalf("wrapped: %s %q", apperr.CodeOf(wrapped), apperr.MessageOf(wrapped))
	}
	// Anything else is ours: its details are for the log, not the page.
	plain := errors.New("pq: relation \"secrets\" does not exist")
	if apperr.CodeOf(plain) != apperr.Internal || strings.Contains(apperr.MessageOf(plain), "secrets") || apperr.MessageOf(plain) == "" {
		t.Fatalf("plain: %s %q", apperr.CodeOf(plain), apperr.MessageOf(plain))
	}
	if apperr.CodeOf(nil) != apperr.Internal || apperr.FieldsOf(plain) != nil || apperr.FieldNames(nil) != "" {
		t.Fatal("nil and plain errors carry no code or fields")
	}
	// An error with fields and no message reads as its first field.
	e := &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{"email", "Enter an email address"}}}
	if e.Error() != "invalid: email: Enter an email address" {
		t.Fatalf("error text %q", e.Error())
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	var v apperr.Validation
	if v.Err() != nil {
		t.Fatal("an empty validation is an error")
	}
	v.Check(true, "name", "Enter a name")
	v.Check(false, "email", "Enter an email address")
	v.MaxLen("title", strings.Repeat("é", 300), 300, "title") // 300 characters, 600 bytes: fine
	v.MaxLen("body", strings.Repeat("a", 200_001), 200_000, "policy text")
	v.Add("email", "A second message for the same field")
	err := v.Err()
	if apperr.CodeOf(err) != apperr.Invalid || apperr.FieldNames(err) != "email,body,email" || !v.Has("body") || v.Has("name") {
		t.Fatalf("fields %q", apperr.FieldNames(err))
	}
	if got := apperr.FieldsOf(err)[1].Message; got != "The policy text must be 200,000 characters or fewer" {
		t.Fatalf("message %q", got)
	}
	// The wrapped form keeps the fields.
	if apperr.FieldNames(fmt.Errorf("save: %w", err)) != "email,body,email" {
		t.Fatal("wrapping lost the fields")
	}
}
