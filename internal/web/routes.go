package web

import (
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"signoff/internal/auth"
	"signoff/internal/people"
	"signoff/web/static"
)

// access says who may use a route. Ownership (a signature is the
// signer's, a form is the school's) is checked again in the handler.
type access struct {
	public bool        // anyone, signed in or not
	roles  []auth.Role // any of these roles; none listed means any signed-in account
	// staffRoles, when set, narrows auth.Staff: an account let in only as
	// staff must hold one of these staff roles.
	staffRoles []people.StaffRole
	// refused is the message of the 403 page; "" for the usual one.
	refused string
}

// allows reports whether the access lets account a in (a signed-in
// account; public routes let anyone in before this is asked).
func (x access) allows(a auth.Account) bool {
	if len(x.roles) == 0 {
		return true
	}
	return slices.ContainsFunc(x.roles, func(r auth.Role) bool {
		return a.Has(r) && (r != auth.Staff || len(x.staffRoles) == 0 || slices.Contains(x.staffRoles, people.StaffRole(a.StaffRole)))
	})
}

var (
	anyone   = access{public: true}
	signedIn = access{}
	staff    = access{roles: []auth.Role{auth.Staff}}
	admin    = access{roles: []auth.Role{auth.Admin}}
	parent   = access{roles: []auth.Role{auth.Parent}}
	// people who sign in with an email address rather than a family link
	member = access{roles: []auth.Role{auth.Admin, auth.Head, auth.Governor, auth.Staff, auth.TrustAdmin}}
	// the office, or a trust administrator for the schools of their trust
	office = access{roles: []auth.Role{auth.Admin, auth.TrustAdmin}}
)

// route is one line of the route table.
type route struct {
	method  string
	pattern string
	access  access
	handler http.HandlerFunc
}

// routes is the whole site: the core table below, then the tables of the
// policy lifecycle (routes_policies.go), families and consent
// (routes_families.go), tracking (routes_tracking.go) and data protection
// (routes_dataprot.go), each read top
// to bottom. The authorisation test walks all of it for every role.
func (s *Server) routes() []route {
	all := s.coreRoutes()
	all = append(all, s.policyRoutes()...)
	all = append(all, s.familyRoutes()...)
	all = append(all, s.trackingRoutes()...)
	all = append(all, s.dataProtectionRoutes()...)
	all = append(all, s.evidenceRoutes()...)
	all = append(all, s.menuRoutes()...)
	return all
}

// coreRoutes are sign-in, staff signing and the office's basic pages.
func (s *Server) coreRoutes() []route {
	return []route{
		{"GET", "/healthz", anyone, s.healthz},
		{"GET", "/readyz", anyone, s.readyz},
		{"GET", "/theme/{colour}.css", anyone, s.themeCSS},

		{"GET", "/sign-in", anyone, s.signInForm},
		{"POST", "/sign-in", anyone, s.signIn},
		{"POST", "/sign-in/link", anyone, s.requestSignInLink},
		{"GET", "/sign-in/link/{token}", anyone, s.signInLinkPage},
		{"POST", "/sign-in/link/{token}", anyone, s.useSignInLink},
		{"POST", "/sign-out", anyone, s.signOut},
		{"GET", "/set-up/{token}", anyone, s.setUpForm},
		{"POST", "/set-up/{token}", anyone, s.setUp},
		{"GET", "/set-up-school", anyone, s.firstRunForm},
		{"POST", "/set-up-school", anyone, s.firstRun},
		{"GET", "/sign-in/sso", anyone, s.ssoStart},
		{"GET", "/sign-in/sso/callback", anyone, s.ssoCallback},
		{"GET", "/f/{token}", anyone, s.familyLink},
		{"GET", "/family/code", anyone, s.familyCodeForm},
		{"POST", "/family/code", anyone, s.familyCode},
		{"GET", "/family/lost", anyone, s.familyLostForm},
		{"POST", "/family/lost", anyone, s.familyLost},

		{"GET", "/", signedIn, s.home},
		{"GET", "/account", member, s.account},
		{"POST", "/account/password", member, s.accountPassword},
		{"GET", "/forms/{formID}", staff, s.signForm},
		{"POST", "/forms/{formID}", staff, s.sign},
		{"GET", "/signatures/{ref}", signedIn, s.signature},
		{"GET", "/signatures/{ref}/copy.pdf", signedIn, s.signedCopy},

		{"GET", "/admin/staff", admin, s.staffList},
		{"GET", "/admin/staff/invite", admin, s.staffInviteForm},
		{"GET", "/admin/staff/invite/confirm", admin, s.staffInviteConfirm},
		{"POST", "/admin/staff/invite", admin, s.staffInvite},
		{"GET", "/admin/staff/{personID}", admin, s.staffPerson},
		{"POST", "/admin/staff/{personID}/roles", admin, s.staffRoles},
		{"GET", "/admin/pupils", admin, s.pupilList},
		{"GET", "/admin/pupils/{pupilID}", admin, s.pupilShow},
		{"GET", "/admin/parents/{parentID}", admin, s.parentShow},
		{"POST", "/admin/parents/{parentID}/family-link/email", admin, s.parentEmailLink},
		{"POST", "/admin/parents/{parentID}/family-link/print", admin, s.parentPrintLink},
		{"POST", "/admin/parents/{parentID}/family-link/revoke", admin, s.parentRevokeLink},
		{"GET", "/admin/import", admin, s.importForm},
		{"POST", "/admin/import", admin, s.importUpload},
		{"GET", "/admin/import/{importID}", admin, s.importPreview},
		{"POST", "/admin/import/{importID}/mapping", admin, s.importMapping},
		{"POST", "/admin/import/{importID}/apply", admin, s.importApply},
		{"GET", "/admin/outbox", admin, s.outboxList},
		{"GET", "/admin/outbox/{messageID}", admin, s.outboxMessage},
		{"POST", "/admin/outbox/{messageID}/retry", admin, s.outboxRetry},
		{"GET", "/admin/audit", admin, s.auditLog},
		{"GET", "/admin/school", admin, s.schoolSettings},
		{"POST", "/admin/school", admin, s.schoolSettingsSave},
		{"POST", "/admin/school/logo", admin, s.schoolLogoSave},
		{"POST", "/admin/school/logo/remove", admin, s.schoolLogoRemove},
		{"GET", "/logo/{schoolID}/{hash}", anyone, s.schoolLogo},
		{"GET", "/admin/sso", office, s.ssoSettings},
		{"POST", "/admin/sso", office, s.ssoSettingsSave},
		{"GET", "/admin/sso/test", office, s.ssoTest},
		{"POST", "/admin/sso/remove", office, s.ssoRemove},
	}
}

// Handler returns the whole site with its middleware.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(withRequestID, realClientIP(s.proxies), s.recoverPanics, s.logRequests, securityHeaders(s.secure), timeout(s.requestTimeout))
	r.Handle(static.Prefix+"*", static.Handler())
	r.Group(func(r chi.Router) {
		r.Use(crossOriginProtection, s.loadSession, s.checkInput)
		for _, rt := range s.routes() {
			r.Method(rt.method, rt.pattern, s.guard(rt.access, rt.handler))
		}
		r.NotFound(func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) })
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			s.renderError(w, r, http.StatusMethodNotAllowed, "This page cannot do that", "The address was used in a way it does not support.")
		})
	})
	return r
}

// RouteInfo describes one route of the table: the permission table that
// the authorisation tests walk.
type RouteInfo struct {
	Method  string
	Pattern string
	Public  bool
	// Roles may use the route; empty (and not Public) means any signed-in account.
	Roles []auth.Role
	// StaffRoles, when set, are the only staff roles let in as Staff.
	StaffRoles []people.StaffRole
}

// Routes lists the route table.
func (s *Server) Routes() []RouteInfo {
	var out []RouteInfo
	for _, rt := range s.routes() {
		out = append(out, RouteInfo{Method: rt.method, Pattern: rt.pattern, Public: rt.access.public, Roles: rt.access.roles,
			StaffRoles: rt.access.staffRoles})
	}
	return out
}

// moved answers a retired address with a permanent redirect to the page
// that replaced it, keeping the query.
func moved(to func(*http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		target := to(r)
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	}
}
