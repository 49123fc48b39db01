package mail

import "fmt"

// The emails that carry a way in: a sign-in link, a family link, a
// member of staff's invitation and an administrator's set-up link. Their
// wording lives here; the caller queues them with Enqueue in the
// transaction that makes the link. school is the school's name, signIn
// the address of the sign-in page.

// SignInLink is the email carrying a single-use sign-in link.
func SignInLink(schoolID int64, school, to, name, link string) Message {
	return Message{SchoolID: schoolID, To: to, ToName: name, Subject: "Your sign-in link for " + school, Kind: "sign_in_link",
		Text: fmt.Sprintf(`Hello %s,

Use this link to sign in to Signoff for %s:

%s

It works once, for the next 20 minutes. If you did not ask to sign in, you can ignore this email: nobody can sign in without the link.

%s
`, name, school, link, school)}
}

// FamilyLink is the email carrying a parent's family link; lost is the
// page where a parent asks for a new one.
func FamilyLink(schoolID int64, school, to, name, link, lost string) Message {
	return Message{SchoolID: schoolID, To: to, ToName: name, Subject: "Your link to your children's forms at " + school, Kind: "family_link",
		Text: fmt.Sprintf(`Hello %s,

%s uses Signoff for forms such as the home-school agreement and photo consent. This link opens your children's forms, with no password:

%s

Keep this email: the link works until the school replaces it. Please don't forward it, as it opens your family's forms. If you lose it, you can ask for a new one at %s

%s
`, name, school, link, lost, school)}
}

// Invitation is a member of staff's invitation with a single-use sign-in
// link, queued once a day at most (day is "2006-01-02").
func Invitation(schoolID, accountID int64, school, to, name, link, signIn, day string) Message {
	return Message{SchoolID: schoolID, To: to, ToName: name, Subject: school + " uses Signoff: your sign-in link", Kind: "invitation",
		DedupeKey: fmt.Sprintf("school:%d:invitation:account:%d:%s", schoolID, accountID, day),
		Text: fmt.Sprintf(`Hello %s,

%s now uses Signoff for the policies and agreements staff read and sign, such as the acceptable use policy.

Use this link to sign in and see what there is for you:

%s

It works once, for 7 days. Afterwards, sign in at %s with a link sent to this address (or set a password under "Your account").

%s
`, name, school, link, signIn, school)}
}

// SetUpLink is a new administrator's set-up link; what says what they
// have been made ("the first administrator of Hollybrook").
func SetUpLink(schoolID int64, school, to, name, what, link, signIn string) Message {
	return Message{SchoolID: schoolID, To: to, ToName: name, Subject: "Set up your Signoff account", Kind: "set_up_link",
		Text: fmt.Sprintf(`Hello %s,

You have been made %s in Signoff.

Use this link to choose your password and sign in:

%s

It works once, for 7 days. After that, sign in at %s with your email address and password.

%s
`, name, what, link, signIn, school)}
}
