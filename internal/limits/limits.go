// Package limits holds the length limits of stored text, in characters.
// The domain's Validate methods enforce them with a message next to the
// field, and migrations/0007_hardening.sql enforces the same numbers in the
// database (CHECK constraints; the signatures table's, since migration
// 0029, as its trigger signatures_valid), so nothing longer is ever stored.
package limits

const (
	// Name is a person's, school's or trust's name, a typed signature,
	// a relationship or a meeting's name.
	Name = 200
	// Email is the longest email address (RFC 5321).
	Email = 254
	// Title is a policy's or form's title.
	Title = 300
	// Category is a policy's category.
	Category = 200
	// Short is an identifier, a class, a phone number, a minute reference.
	Short = 100
	// Label is a consent question or a statement's label.
	Label = 500
	// Statement is the sentence people tick to sign.
	Statement = 2000
	// Note is a comment, a change note, a question's explanation.
	Note = 5000
	// Part is one part of a home-school agreement, or a form's
	// introduction, in Markdown.
	Part = 20_000
	// Body is a policy's text in Markdown.
	Body = 200_000
	// UserAgent is the browser's description kept as evidence.
	UserAgent = 500
	// IdentifiedBy is how a session's holder, and so a signer, was
	// identified ("Signed in with their password (a@b)").
	IdentifiedBy = 500
	// Filename is an uploaded file's name.
	Filename = 255
)

// Clip cuts s to at most n characters, for text we write ourselves from
// other stored values (audit subjects, error messages), which must never
// fail a transaction for being long.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
