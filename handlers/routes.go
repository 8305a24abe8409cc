package handlers

import (
	"github.com/gin-gonic/gin"
)

// Routes returns the HTTP handler with every route, grouped by who may
// use them. It is the *gin.Engine itself so tests can walk every
// registered route (handlers/isolation_test.go).
func (h *Handler) Routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.RedirectTrailingSlash = false
	r.HandleMethodNotAllowed = false
	h.trustProxies(r)
	r.Use(h.logRequests, compress, h.recoverPanics, securityHeaders, h.crossOriginProtection, h.loadSession, h.checkInput)

	r.GET("/static/*path", gin.WrapH(h.assets))
	r.GET("/healthz", h.wrap(h.healthz))

	// Anyone.
	r.GET("/", h.wrap(h.home))
	r.GET("/login", h.wrap(h.loginPage))
	r.POST("/login", h.wrap(h.login))
	r.GET("/register", h.wrap(h.registerPage))
	r.POST("/register", h.wrap(h.register))
	r.POST("/register/validate", h.wrap(h.registerValidate))
	r.POST("/logout", h.wrap(h.logout))
	r.DELETE("/logout", h.wrap(h.logout))

	// Signed in, with or without an organization.
	user := r.Group("/", h.requireUser)
	user.GET("/orgs/new", h.wrap(h.orgNewPage))
	user.POST("/orgs", h.wrap(h.orgCreate))
	user.POST("/org/select", h.wrap(h.orgSelect))
	// Owner or admin of some organization (checked in the handlers), so
	// a plain member of the current one can still switch to manage another.
	user.GET("/admin/tenant", h.wrap(h.adminTenants))
	user.POST("/admin/tenant", h.wrap(h.adminTenantSelect))

	// Active members of the current organization.
	member := r.Group("/", h.requireUser, h.requireOrg)
	member.GET("/dashboard", h.wrap(h.dashboard))
	member.GET("/events", h.wrap(h.events))
	member.GET("/notifications", h.wrap(h.notifications))
	member.GET("/notifications/badge", h.wrap(h.notificationsBadge))
	member.POST("/notifications/read-all", h.wrap(h.notificationsReadAll))
	member.POST("/notifications/:id/read", h.wrap(h.notificationRead))
	if h.live != nil {
		h.registerLiveFragments()
	}

	// Owners and admins of the current organization, and their console.
	manage := r.Group("/", h.requireUser, h.requireOrg, h.requireAdmin)
	admin := r.Group("/admin", h.requireUser, h.requireOrg, h.requireAdmin)

	h.forumRoutes(member, manage)
	h.marketplaceRoutes(member, manage)
	h.agentRoutes(member, manage)
	h.workflowRoutes(member, manage)
	h.chatRoutes(member)
	h.adminRoutes(admin)
	h.accountRoutes(r, user, member, admin)
	h.apiRoutes(r)

	r.NoRoute(h.wrap(func(c *gin.Context) error { return errNotFound }))
	return r
}

// forumRoutes: members read and post; moderators (owners and admins)
// manage categories, threads and posts.
func (h *Handler) forumRoutes(member, manage *gin.RouterGroup) {
	member.GET("/forums", h.wrap(h.forumIndex))
	member.GET("/forums/c/:slug", h.wrap(h.forumCategory))
	member.GET("/forums/new", h.wrap(h.forumThreadNew))
	member.POST("/forums/threads", h.wrap(h.forumThreadCreate))
	member.GET("/forums/t/:id", h.wrap(h.forumThread))
	member.POST("/forums/t/:id/replies", h.wrap(h.forumReply))
	// Posts people would choose (SPEC §16): edits (the author, or a
	// moderator: checked by the handler), reactions, flags, and the
	// solution, which the thread's starter or a moderator marks.
	member.GET("/forums/posts/:id/edit", h.wrap(h.forumPostEditPage))
	member.POST("/forums/posts/:id/edit", h.wrap(h.forumPostEdit))
	member.GET("/forums/posts/:id/revisions", h.wrap(h.forumPostRevisions))
	member.POST("/forums/posts/:id/react", h.wrap(h.forumPostReact))
	member.GET("/forums/posts/:id/flag", h.wrap(h.forumFlagPage))
	member.POST("/forums/posts/:id/flag", h.wrap(h.forumFlag))
	member.POST("/forums/t/:id/solve", h.wrap(h.forumThreadSolve))
	member.POST("/forums/t/:id/unsolve", h.wrap(h.forumThreadUnsolve))
	member.GET("/search", h.wrap(h.search)) // the forums' threads and posts (SPEC §16)
	manage.GET("/forums/categories/new", h.wrap(h.forumCategoryNew))
	manage.POST("/forums/categories", h.wrap(h.forumCategoryCreate))
	manage.POST("/forums/c/:slug/archive", h.wrap(h.forumCategoryArchive))
	manage.POST("/forums/c/:slug/restore", h.wrap(h.forumCategoryRestore))
	manage.GET("/forums/t/:id/ask", h.wrap(h.forumAskPage))
	manage.POST("/forums/t/:id/ask", h.wrap(h.forumAsk))
	manage.POST("/forums/t/:id/lock", h.wrap(h.forumThreadLock))
	manage.POST("/forums/t/:id/unlock", h.wrap(h.forumThreadUnlock))
	manage.POST("/forums/t/:id/pin", h.wrap(h.forumThreadPin))
	manage.POST("/forums/t/:id/unpin", h.wrap(h.forumThreadUnpin))
	manage.POST("/forums/posts/:id/hide", h.wrap(h.forumPostHide))
	manage.POST("/forums/posts/:id/unhide", h.wrap(h.forumPostUnhide))
	manage.POST("/forums/posts/:id/delete", h.wrap(h.forumPostDelete))
	manage.POST("/forums/posts/:id/restore", h.wrap(h.forumPostRestore))
}

// marketplaceRoutes: members browse and review; owners and admins install.
func (h *Handler) marketplaceRoutes(member, manage *gin.RouterGroup) {
	member.GET("/marketplace", h.wrap(h.marketplace))
	member.GET("/marketplace/:slug", h.wrap(h.marketplacePackage))
	member.GET("/marketplace/:slug/status", h.wrap(h.marketplaceStatus))
	member.POST("/marketplace/:slug/reviews", h.wrap(h.marketplaceReview))
	manage.POST("/marketplace/install", h.wrap(h.marketplaceInstall))
	manage.POST("/marketplace/uninstall", h.wrap(h.marketplaceUninstall))
}

func (h *Handler) agentRoutes(member, manage *gin.RouterGroup) {
	// Agents (SPEC §12): members read them and run the active ones.
	member.GET("/agents", h.wrap(h.agents))
	member.GET("/agents/:id", h.wrap(h.agent))
	member.POST("/agents/:id/executions", h.wrap(h.agentRun))
	member.GET("/executions/:id", h.wrap(h.execution))
	member.POST("/executions/:id/cancel", h.wrap(h.executionCancel))
	if h.live != nil {
		h.registerExecutionLive()
	}
	// Owners and admins create, edit, archive and move agents between states.
	manage.GET("/agents/new", h.wrap(h.agentNew))
	manage.POST("/agents", h.wrap(h.agentCreate))
	manage.POST("/agents/validate", h.wrap(h.agentValidate))
	manage.GET("/agents/:id/edit", h.wrap(h.agentEdit))
	manage.POST("/agents/:id", h.wrap(h.agentUpdate))
	manage.POST("/agents/:id/archive", h.wrap(h.agentArchive))
	manage.POST("/agents/:id/transitions", h.wrap(h.agentTransition))
}

func (h *Handler) workflowRoutes(member, manage *gin.RouterGroup) {
	// Workflows (SPEC §13): members read them and their runs.
	member.GET("/workflows", h.wrap(h.workflows))
	member.GET("/workflows/runs/:id", h.wrap(h.workflowRun))
	member.GET("/workflows/:id", h.wrap(h.workflowShow))
	// Owners and admins edit them, switch them, and decide their runs.
	manage.GET("/workflows/new", h.wrap(h.workflowNew))
	manage.POST("/workflows", h.wrap(h.workflowCreate))
	manage.GET("/workflows/:id/edit", h.wrap(h.workflowEdit))
	manage.POST("/workflows/:id", h.wrap(h.workflowUpdate))
	manage.POST("/workflows/:id/enable", h.wrap(h.workflowEnable))
	manage.POST("/workflows/:id/disable", h.wrap(h.workflowDisable))
	manage.POST("/workflows/runs/:id/retry", h.wrap(h.workflowRunRetry))
	manage.POST("/workflows/runs/:id/cancel", h.wrap(h.workflowRunCancel))
	manage.POST("/workflows/runs/:id/steps/:step/approve", h.wrap(h.workflowStepApprove))
	manage.POST("/workflows/runs/:id/steps/:step/reject", h.wrap(h.workflowStepReject))
}

func (h *Handler) chatRoutes(member *gin.RouterGroup) {
	// Chat: conversations are their owner's alone (others get 404);
	// confirming an action checks the action's own role rule.
	member.GET("/chat", h.wrap(h.chatIndex))
	member.POST("/chat", h.wrap(h.chatCreate))
	member.GET("/chat/:id", h.wrap(h.chatShow))
	member.POST("/chat/:id/messages", h.wrap(h.chatSend))
	member.POST("/chat/:id/stop", h.wrap(h.chatStop))
	member.POST("/chat/:id/retry", h.wrap(h.chatRetry))
	member.GET("/chat/:id/actions/:action_id", h.wrap(h.chatAction))
	member.POST("/chat/:id/actions/:action_id/confirm", h.wrap(h.chatActionConfirm))
	if h.live != nil {
		h.registerChatLive()
	}
}

// adminRoutes: the admin console, owners and admins of the current
// organization.
func (h *Handler) adminRoutes(admin *gin.RouterGroup) {
	admin.GET("", h.wrap(h.adminHome))
	admin.GET("/members", h.wrap(h.adminMembers))
	admin.POST("/members", h.wrap(h.adminMemberAdd))
	admin.POST("/members/:user_id", h.wrap(h.adminMemberUpdate))
	admin.GET("/agents", h.wrap(h.adminAgents))
	admin.POST("/agents/:id/transitions", h.wrap(h.adminAgentTransition))
	admin.GET("/skills", h.wrap(h.adminSkills))
	admin.GET("/installations", h.wrap(h.adminInstallations))
	admin.POST("/installations/:id/enable", h.wrap(h.adminInstallationEnable))
	admin.POST("/installations/:id/disable", h.wrap(h.adminInstallationDisable))
	admin.GET("/signals", h.wrap(h.adminSignals))
	admin.POST("/signals/replay", h.wrap(h.adminSignalReplay))
	admin.GET("/directives", h.wrap(h.adminDirectives))
	admin.POST("/directives/:id/retry", h.wrap(h.adminDirectiveRetry))
	admin.POST("/directives/:id/cancel", h.wrap(h.adminDirectiveCancel))
	admin.GET("/jobs", h.wrap(h.adminJobs))
	admin.GET("/usage", h.wrap(h.adminUsage))
	admin.GET("/forums", h.wrap(h.adminForums))
	admin.GET("/flags", h.wrap(h.adminFlags))
	admin.POST("/flags/:id", h.wrap(h.adminFlagReview))
	admin.GET("/api-keys", h.wrap(h.adminAPIKeys))
	admin.POST("/api-keys", h.wrap(h.adminAPIKeyCreate))
	admin.POST("/api-keys/:id/revoke", h.wrap(h.adminAPIKeyRevoke))
	admin.GET("/webhooks", h.wrap(h.adminWebhooks))
	admin.POST("/webhooks", h.wrap(h.adminWebhookCreate))
	admin.GET("/webhooks/:id", h.wrap(h.adminWebhook))
	admin.POST("/webhooks/:id/rotate", h.wrap(h.adminWebhookRotate))
	admin.POST("/webhooks/:id/disable", h.wrap(h.adminWebhookDisable))
	admin.POST("/webhooks/:id/enable", h.wrap(h.adminWebhookEnable))
	admin.POST("/webhooks/:id/test", h.wrap(h.adminWebhookTest))
	admin.POST("/webhooks/deliveries/:id/redeliver", h.wrap(h.adminWebhookRedeliver))
}

func (h *Handler) accountRoutes(r *gin.Engine, user, member, admin *gin.RouterGroup) {
	// Accounts (SPEC §16): your settings and sessions (with or without an
	// organization), profiles within the current organization, invitations
	// made by owners and admins, and the link itself, whose token is the
	// credential (open to visitors; the handler decides per caller).
	user.GET("/settings", h.wrap(h.settings))
	user.POST("/settings/profile", h.wrap(h.settingsProfile))
	user.POST("/settings/password", h.wrap(h.settingsPassword))
	user.GET("/settings/sessions", h.wrap(h.settingsSessions))
	user.POST("/settings/sessions/revoke-others", h.wrap(h.settingsSessionsRevoke))
	member.GET("/u/:handle", h.wrap(h.profile))
	admin.POST("/invitations", h.wrap(h.adminInvite))
	admin.POST("/invitations/:id/revoke", h.wrap(h.adminInvitationRevoke))
	r.GET("/invite/:token", h.wrap(h.inviteShow))
	r.POST("/invite/:token", h.wrap(h.inviteAccept))
}

// apiRoutes are the JSON API (SPEC §15): a bearer API key, never a
// session; the tenant comes from the key. Its document and its page are
// public.
func (h *Handler) apiRoutes(r *gin.Engine) {
	r.GET("/api/v1/openapi.json", h.wrap(h.apiOpenAPI))
	r.GET("/docs/api", h.wrap(h.apiDocs))
	api := r.Group("/api/v1", h.apiAuth)
	api.GET("/packages", h.wrap(h.apiPackages))
	api.GET("/installations", h.wrap(h.apiInstallations))
	api.GET("/directives/:id", h.wrap(h.apiDirective))
	api.GET("/signals", h.wrap(h.apiSignals))
	api.GET("/agents", h.wrap(h.apiAgents))
	api.GET("/executions/:id", h.wrap(h.apiExecution))
	api.GET("/forums/threads", h.wrap(h.apiThreads))
	writes := api.Group("", h.apiWrites)
	writes.POST("/installations", h.wrap(h.apiInstall))
	writes.DELETE("/installations/:slug", h.wrap(h.apiUninstall))
	writes.POST("/agents/:id/executions", h.wrap(h.apiExecute))
	writes.POST("/forums/threads", h.wrap(h.apiThreadCreate))
	writes.POST("/forums/threads/:id/posts", h.wrap(h.apiPostCreate))
}
