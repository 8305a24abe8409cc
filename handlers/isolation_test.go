package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// The whole-router isolation test. It walks EVERY route registered on the
// gin engine, fills its path parameters with real ids of organization B,
// and checks three callers (for /api/v1 routes, their API-key
// equivalents: checkAPIRoute):
//
//   - a visitor is sent to sign in (401 for htmx and event streams);
//   - the owner of organization A gets 404 or 403 for B's ids, and never a
//     byte of B's data, on any route;
//   - a plain member of B gets 403 on every route that is not in
//     memberRoutes (owner/admin routes).
//
// A route added later is covered without anyone remembering to: a new
// path parameter without a B value fails the test loudly, and a new route
// a plain member may use must be added to memberRoutes on purpose.

// publicRoutes answer anyone; they are not checked.
var publicRoutes = map[string]bool{
	"GET /": true, "GET /login": true, "POST /login": true, "GET /register": true, "POST /register": true,
	"POST /register/validate": true, "POST /logout": true, "DELETE /logout": true, "GET /healthz": true,
	"GET /static/*path": true, "GET /api/v1/openapi.json": true, "GET /docs/api": true,
}

// memberRoutes are the routes a plain member may use (SPEC §3, §8):
// reading the tenant, threads, replies, reviews, chat, the live stream,
// and their own account's organization switching. Every other signed-in
// route must refuse them with 403.
var memberRoutes = map[string]bool{
	"GET /dashboard": true, "GET /events": true,
	"GET /forums": true, "GET /forums/c/:slug": true, "GET /forums/new": true, "POST /forums/threads": true,
	"GET /forums/t/:id": true, "POST /forums/t/:id/replies": true, "GET /search": true,
	// Posts (SPEC §16): edit (your own: the handler checks), history,
	// reactions, flags, and the solution (the thread's starter).
	"GET /forums/posts/:id/edit": true, "POST /forums/posts/:id/edit": true, "GET /forums/posts/:id/revisions": true,
	"POST /forums/posts/:id/react": true, "GET /forums/posts/:id/flag": true, "POST /forums/posts/:id/flag": true,
	"POST /forums/t/:id/solve": true, "POST /forums/t/:id/unsolve": true,
	"GET /marketplace": true, "GET /marketplace/:slug": true, "GET /marketplace/:slug/status": true,
	"POST /marketplace/:slug/reviews": true,
	"GET /agents":                     true, "GET /agents/:id": true,
	// Running an active agent and following the run (SPEC §12).
	"POST /agents/:id/executions": true, "GET /executions/:id": true, "POST /executions/:id/cancel": true,
	"GET /chat": true, "GET /chat/:id": true, "POST /chat": true, "POST /chat/:id/messages": true,
	// Your own conversation: stop or retry its answer, poll an action's card.
	"POST /chat/:id/stop": true, "POST /chat/:id/retry": true, "GET /chat/:id/actions/:action_id": true,
	// The action's own role is checked by the handler (SPEC §8).
	"POST /chat/:id/actions/:action_id/confirm": true,
	"GET /orgs/new": true, "POST /orgs": true, "POST /org/select": true,
	// Your own account, and the profiles of your organization's members.
	"GET /settings": true, "POST /settings/profile": true, "POST /settings/password": true,
	"GET /settings/sessions": true, "POST /settings/sessions/revoke-others": true,
	"GET /u/:handle": true,
	// Workflows and their runs are read by every member (SPEC §13).
	"GET /workflows": true, "GET /workflows/:id": true, "GET /workflows/runs/:id": true,
	// Your own notifications (SPEC §16): another's is not found.
	"GET /notifications": true, "GET /notifications/badge": true, "POST /notifications/read-all": true,
	"POST /notifications/:id/read": true,
}

// tokenRoutes take their credential in the path: whoever holds an
// invitation's link may open it, signed in or not, so a visitor is not
// sent to sign in and may see what the link is for. A signed-in user
// whose email is not the invited one (A's owner, B's plain member) is
// refused (403) and learns nothing of B.
var tokenRoutes = map[string]bool{"GET /invite/:token": true, "POST /invite/:token": true}

// orgB is the organization whose data must never leak.
type orgB struct {
	slug, marker                                  string
	owner, member                                 *client
	memberID                                      int64
	catSlug, catID, threadID, postID              string
	agentID, directiveID, installationID, pkgSlug string
	conversationID, actionID                      string
	executionID, workflowID, runID                string
	memberHandle, invitationID, inviteToken       string
	apiKeyID, endpointID, deliveryID              string
	installationSlug                              string
	readKey                                       string // a read key of B's
	flagID                                        string // B's member's flag of B's reply
	notificationID                                string // a notification of B's member
}

func newOrgB(as *adminSite) *orgB {
	t := as.t
	t.Helper()
	b := &orgB{slug: storetest.Name("isob"), marker: "zq" + storetest.Name("mark") + "qz", owner: as.client()}
	b.owner.register(b.slug)
	b.member, _, b.memberID = as.newUser("isomem")
	var email string
	if err := as.store.DB.GetContext(ctx, &email, `SELECT email FROM users WHERE id = $1`, b.memberID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, b.owner.post("/admin/members", url.Values{"email": {email}, "role": {"member"}}), http.StatusSeeOther)
	wantStatus(t, b.member.post("/org/select", url.Values{"slug": {b.slug}}), http.StatusSeeOther)
	// B's member belongs to B only: their profile must not show to A.
	if err := as.store.DB.GetContext(ctx, &b.memberHandle, `UPDATE users SET name = $2 WHERE id = $1 RETURNING handle`,
		b.memberID, "Member "+b.marker); err != nil {
		t.Fatal(err)
	}
	// An open invitation of B's, to someone with no account yet.
	link, invID := b.owner.invite(t, storetest.Name("isoinv")+"@example.com", store.RoleAdmin)
	b.inviteToken, b.invitationID = link[strings.LastIndex(link, "/")+1:], invID

	tn := as.tenantOf(b.slug)
	b.addForum(as, tn)
	b.notificationID = b.notify(as, tn)
	b.agentID = as.insertAgent(b.slug, "Agent "+b.marker, store.AgentDraft)
	b.installationSlug = "bpkg-" + strconv.Itoa(int(b.memberID))
	b.installationID = as.insertInstallation(b.slug, b.installationSlug, store.InstallInstalled)
	if _, err := as.store.DB.ExecContext(ctx, tn.SQL(`UPDATE {tenant}.package_installations SET package_name = $1 WHERE id = $2`),
		"Installation "+b.marker, b.installationID); err != nil {
		t.Fatal(err)
	}
	d, _, err := as.dirs.Request(ctx, tn, store.DirectiveRequest{Kind: adminTestKind, Payload: map[string]string{"note": b.marker}, UserID: b.memberID}, true)
	if err != nil {
		t.Fatal(err)
	}
	b.directiveID = d.ID
	b.addChats(as, tn)
	b.addWorkflow(as, tn)
	b.addIntegrations(as, tn)
	return b
}

// addForum gives B a category, a thread with a reply, and a flag on it.
func (b *orgB) addForum(as *adminSite, tn store.Tenant) {
	t := as.t
	t.Helper()
	// The category slug carries no marker: foreign requests send it back
	// in forms, and a page may echo submitted input.
	b.catSlug = "bcat-" + strconv.Itoa(int(b.memberID))
	wantStatus(t, b.owner.post("/forums/categories", url.Values{"name": {"Category " + b.marker}, "slug": {b.catSlug}}), http.StatusSeeOther)
	cat, err := as.store.ForumCategoryBySlug(ctx, tn, b.catSlug)
	if err != nil {
		t.Fatal(err)
	}
	b.catID = cat.ID
	r := b.owner.post("/forums/threads", url.Values{"category_id": {cat.ID}, "title": {"Thread " + b.marker}, "body": {"Body " + b.marker}})
	wantStatus(t, r, http.StatusSeeOther)
	b.threadID = strings.TrimPrefix(r.Header.Get("Location"), "/forums/t/")
	r = b.owner.post("/forums/t/"+b.threadID+"/replies", url.Values{"body": {"Reply " + b.marker}})
	wantStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	b.postID = loc[strings.Index(loc, "#post-")+len("#post-"):]
	fl, err := as.store.FlagPost(ctx, tn, b.memberID, store.NewFlag{PostID: b.postID, Reason: "other", Note: "Flag " + b.marker})
	if err != nil {
		t.Fatal(err)
	}
	b.flagID = fl.Flag.ID
}

// addChats gives B's member a conversation with B's agent, a proposed
// action, and a run of the agent.
func (b *orgB) addChats(as *adminSite, tn store.Tenant) {
	t := as.t
	t.Helper()
	// A conversation of B's member with B's agent, and a proposed action.
	if err := as.store.DB.GetContext(ctx, &b.conversationID, tn.SQL(`INSERT INTO {tenant}.chat_conversations (user_id, agent_id, agent_name, title)
		VALUES ($1, $2, $3, $4) RETURNING id`), b.memberID, b.agentID, "Agent "+b.marker, "Chat "+b.marker); err != nil {
		t.Fatal(err)
	}
	if _, err := as.store.DB.ExecContext(ctx, tn.SQL(`INSERT INTO {tenant}.chat_messages (conversation_id, role, content)
		VALUES ($1, 'user', $2)`), b.conversationID, "Message "+b.marker); err != nil {
		t.Fatal(err)
	}
	if err := as.store.DB.GetContext(ctx, &b.actionID, tn.SQL(`INSERT INTO {tenant}.chat_actions (conversation_id, kind, payload, summary, idempotency_key)
		VALUES ($1, 'lock_thread', $2, $3, $4) RETURNING id`), b.conversationID, `{"thread_id":"`+b.threadID+`"}`, "Action "+b.marker, "iso-action-"+b.slug); err != nil {
		t.Fatal(err)
	}
	// A run of B's agent.
	if err := as.store.DB.GetContext(ctx, &b.executionID, tn.SQL(`INSERT INTO {tenant}.agent_executions (agent_id, agent_name, purpose, input, output, cause_type)
		VALUES ($1, $2, 'run', $3, $4, 'user') RETURNING id`), b.agentID, "Agent "+b.marker, "Input "+b.marker, "Output "+b.marker); err != nil {
		t.Fatal(err)
	}
}

// addWorkflow gives B a workflow with a run waiting for an approval, and
// a package of the global catalogue.
func (b *orgB) addWorkflow(as *adminSite, tn store.Tenant) {
	t := as.t
	t.Helper()
	// A workflow of B's and a run waiting for an approval.
	wf, err := as.store.CreateWorkflow(ctx, tn, store.WorkflowSpec{Name: "Workflow " + b.marker, TriggerSignal: "forum.thread.created",
		Definition: `{"trigger":{"signal":"forum.thread.created"},"steps":[{"id":"approval","approval":{"prompt":"Prompt ` + b.marker + `"}}]}`}, b.memberID)
	if err != nil {
		t.Fatal(err)
	}
	b.workflowID = wf.ID
	if err := as.store.DB.GetContext(ctx, &b.runID, tn.SQL(`INSERT INTO {tenant}.workflow_runs (workflow_id, workflow_name, definition,
		trigger_seq, trigger_id, trigger_name, trigger, status) VALUES ($1, $2, $3, 1, gen_random_uuid(), 'forum.thread.created', $4, 'waiting')
		RETURNING id`), wf.ID, wf.Name, string(wf.Definition), `{"title":"Trigger `+b.marker+`"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := as.store.DB.ExecContext(ctx, tn.SQL(`INSERT INTO {tenant}.workflow_steps (run_id, step_id, position, kind, status, input)
		VALUES ($1, 'approval', 0, 'approval', 'waiting', $2)`), b.runID, "Input "+b.marker); err != nil {
		t.Fatal(err)
	}
	// Packages are the global catalogue: anyone may see one, but B's
	// install state of it must not show.
	b.pkgSlug = "isopkg-" + strconv.Itoa(int(b.memberID))
	if _, err := as.store.DB.ExecContext(ctx, `INSERT INTO packages (name, slug, version, category, pricing_model, is_published)
		VALUES ('Isolation package', $1, '1.0.0', 'operations', 'free', true)`, b.pkgSlug); err != nil {
		t.Fatal(err)
	}
}

// addIntegrations gives B an API key, a webhook endpoint with a delivery,
// and an execution, each carrying the marker where it has text.
func (b *orgB) addIntegrations(as *adminSite, tn store.Tenant) {
	t := as.t
	t.Helper()
	k, key, err := as.store.CreateAPIKey(ctx, tn, b.memberID, "Key "+b.marker, store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	b.apiKeyID, b.readKey = k.ID, key
	ep, err := as.store.CreateWebhookEndpoint(ctx, tn, b.memberID, store.NewWebhookEndpoint{URL: "https://hooks.example.com/" + b.marker,
		Events: []string{"*"}, Description: "Endpoint " + b.marker})
	if err != nil {
		t.Fatal(err)
	}
	b.endpointID = ep.ID
	sig, err := as.store.SignalBySeq(ctx, tn, 1)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := as.store.Tx(ctx, func(tx *sqlx.Tx) (err error) {
		ids, err = as.store.AddWebhookDeliveriesTx(ctx, tx, tn, []store.NewWebhookDelivery{{EndpointID: ep.ID, SignalSeq: sig.Seq}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Its row is written by its first attempt.
	if err := as.store.RecordWebhookAttempts(ctx, tn, []store.WebhookAttempt{{DeliveryID: ids[0], EndpointID: ep.ID, New: true,
		SignalSeq: sig.Seq, SignalName: sig.Name, MessageID: store.WebhookMessageID(sig.ID, ep.ID), Attempt: 1, At: time.Now(),
		StatusCode: 204, OK: true}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	ds, _, err := as.store.WebhookDeliveries(ctx, tn, ep.ID, "", 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("B's delivery: %v %v", ds, err)
	}
	b.deliveryID = ds[0].ID
}

// notify gives B's member a notification (about B's first signal) and
// returns its id.
func (b *orgB) notify(as *adminSite, tn store.Tenant) string {
	as.t.Helper()
	if err := as.store.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := as.store.AddNotificationsTx(ctx, tx, tn, []store.NewNotification{{UserID: b.memberID, Reason: store.NotifyFlag,
			SignalSeq: 1, DedupeKey: "isolation"}})
		return err
	}); err != nil {
		as.t.Fatal(err)
	}
	ns, _, err := as.store.Notifications(ctx, tn, b.memberID, 1)
	if err != nil || len(ns) == 0 {
		as.t.Fatalf("B's notification: %v %v", ns, err)
	}
	return ns[0].ID
}

// paramValue is B's value for a route's path parameter. global reports a
// value that is not B's own (the catalogue), which others may see.
func (b *orgB) paramValue(path, param string) (value string, global bool, ok bool) {
	switch {
	case param == "slug" && strings.HasPrefix(path, "/forums/c/"):
		return b.catSlug, false, true
	case param == "slug" && strings.HasPrefix(path, "/marketplace/"):
		return b.pkgSlug, true, true
	case param == "id" && strings.HasPrefix(path, "/forums/t/"):
		return b.threadID, false, true
	case param == "id" && strings.HasPrefix(path, "/forums/posts/"):
		return b.postID, false, true
	case param == "id" && (strings.HasPrefix(path, "/agents/") || strings.HasPrefix(path, "/admin/agents/")):
		return b.agentID, false, true
	case param == "id" && strings.HasPrefix(path, "/admin/directives/"):
		return b.directiveID, false, true
	case param == "id" && strings.HasPrefix(path, "/admin/installations/"):
		return b.installationID, false, true
	case param == "id" && strings.HasPrefix(path, "/executions/"):
		return b.executionID, false, true
	case param == "id" && strings.HasPrefix(path, "/chat/"):
		return b.conversationID, false, true
	case param == "action_id" && strings.HasPrefix(path, "/chat/"):
		return b.actionID, false, true
	case param == "id" && strings.HasPrefix(path, "/workflows/runs/"):
		return b.runID, false, true
	case param == "step" && strings.HasPrefix(path, "/workflows/runs/"):
		return "approval", false, true
	case param == "id" && strings.HasPrefix(path, "/workflows/"):
		return b.workflowID, false, true
	case param == "user_id" && strings.HasPrefix(path, "/admin/members/"):
		return strconv.FormatInt(b.memberID, 10), false, true
	case param == "handle" && strings.HasPrefix(path, "/u/"):
		return b.memberHandle, false, true
	case param == "id" && strings.HasPrefix(path, "/notifications/"):
		return b.notificationID, false, true
	case param == "id" && strings.HasPrefix(path, "/admin/flags/"):
		return b.flagID, false, true
	case param == "id" && strings.HasPrefix(path, "/admin/invitations/"):
		return b.invitationID, false, true
	case param == "token" && strings.HasPrefix(path, "/invite/"):
		return b.inviteToken, false, true
	case param == "id" && strings.HasPrefix(path, "/admin/api-keys/"):
		return b.apiKeyID, false, true
	case param == "id" && strings.HasPrefix(path, "/admin/webhooks/deliveries/"):
		return b.deliveryID, false, true
	case param == "id" && strings.HasPrefix(path, "/admin/webhooks/"):
		return b.endpointID, false, true
	case param == "id" && strings.HasPrefix(path, "/api/v1/directives/"):
		return b.directiveID, false, true
	case param == "id" && strings.HasPrefix(path, "/api/v1/forums/threads/"):
		return b.threadID, false, true
	case param == "id" && strings.HasPrefix(path, "/api/v1/agents/"):
		return b.agentID, false, true
	case param == "id" && strings.HasPrefix(path, "/api/v1/executions/"):
		return b.executionID, false, true
	case param == "slug" && strings.HasPrefix(path, "/api/v1/installations/"):
		return b.installationSlug, false, true
	}
	return "", false, false
}

// fill substitutes every :param of path; it fails the test for a
// parameter it has no B value for.
func (b *orgB) fill(t *testing.T, method, path string) (filled string, foreign bool) {
	t.Helper()
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, ":") && !strings.HasPrefix(p, "*") {
			continue
		}
		v, global, ok := b.paramValue(path, p[1:])
		if !ok {
			t.Fatalf("%s %s: no organization-B value for path parameter %s; teach orgB.paramValue about it "+
				"so the route is checked for isolation", method, path, p)
		}
		parts[i] = url.PathEscape(v)
		foreign = foreign || !global
	}
	return strings.Join(parts, "/"), foreign
}

// bForm is the body of every POST: B's ids in the usual field names, so a
// route that takes an id from the form is probed too. No field carries the
// marker, and values are invalid where they would change A (no title, an
// unknown role).
func (b *orgB) bForm() url.Values {
	return url.Values{
		"category_id": {b.catID}, "thread_id": {b.threadID}, "post_id": {b.postID}, "agent_id": {b.agentID},
		"slug": {b.catSlug}, "conversation_id": {b.conversationID}, "idempotency_key": {"iso-" + b.slug}, "action": {"deploy"}, "role": {"nobody"},
		"status": {"nobody"}, "topic": {"thread:" + b.threadID},
	}
}

func (b *orgB) request(c *client, method, path string, headers ...string) *response {
	switch method {
	case http.MethodGet:
		if path == "/events" {
			path += "?topic=thread:" + b.threadID
		}
		return c.get(path, headers...)
	case http.MethodPost:
		return c.post(path, b.bForm(), headers...)
	default:
		req, _ := http.NewRequest(method, c.s.srv.URL+path, strings.NewReader(b.bForm().Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return c.do(req)
	}
}

func (b *orgB) leaks(r *response) bool {
	return strings.Contains(r.Body, b.marker) || strings.Contains(r.Body, "org_"+b.slug) || strings.Contains(r.Body, "Org "+b.slug)
}

// checkVisitor: a visitor is sent to sign in (or, holding a link's token,
// may see what it is for, without changing anything: the walk's form is
// not a valid acceptance).
func (b *orgB) checkVisitor(t *testing.T, visitor *client, key, method, path string) {
	t.Helper()
	r := b.request(visitor, method, path)
	if tokenRoutes[key] {
		if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("visitor with the link %s: %d, want 200 or 422", key, r.StatusCode)
		}
		return
	}
	if !(r.StatusCode == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/login")) && r.StatusCode != http.StatusUnauthorized {
		t.Errorf("visitor %s: %d %s, want a redirect to /login (or 401)", key, r.StatusCode, r.Header.Get("Location"))
	}
	if b.leaks(r) {
		t.Errorf("visitor %s: organization B's data in the answer", key)
	}
	r = b.request(visitor, method, path, "HX-Request", "true")
	if r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusSeeOther {
		t.Errorf("visitor (htmx) %s: %d, want 401 with HX-Redirect (or 303)", key, r.StatusCode)
	}
}

func TestIsolationOverEveryRoute(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	b := newOrgB(as)
	aSlug := storetest.Name("isoa")
	foreigner := as.client()
	foreigner.register(aSlug) // owner of A: every admin check passes, only tenancy stands in the way
	visitor := as.client()
	foreignKey := foreigner.newAPIKey("A's writer", "write") // A's owner's write key: only tenancy stands in the way

	routes := as.engine.Routes()
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered: is the engine the app's?", len(routes))
	}
	checked := 0
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		if publicRoutes[key] {
			continue
		}
		path, foreign := b.fill(t, rt.Method, rt.Path)
		checked++
		if strings.HasPrefix(rt.Path, "/api/") {
			b.checkAPIRoute(t, as, foreignKey, rt.Method, rt.Path, path, foreign)
			continue
		}

		b.checkVisitor(t, visitor, key, rt.Method, path)

		// A's owner: never B's data; B's ids are not found (or refused).
		r := b.request(foreigner, rt.Method, path)
		if b.leaks(r) {
			t.Errorf("A's owner %s: organization B's data in the answer (status %d)", key, r.StatusCode)
		}
		if r.StatusCode >= 500 {
			t.Errorf("A's owner %s: %d", key, r.StatusCode)
		}
		if foreign && r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
			t.Errorf("A's owner %s with B's ids: %d, want 404 or 403", key, r.StatusCode)
		}

		// B's plain member: 403 wherever owners and admins are needed.
		if !memberRoutes[key] {
			r = b.request(b.member, rt.Method, path)
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("B's plain member %s: %d, want 403 (owner/admin only; a route members may use belongs in memberRoutes)", key, r.StatusCode)
			}
		}
	}
	t.Logf("checked %d routes", checked)

	b.unchanged(t, as)
}

// unchanged checks the walk changed nothing of B's: its agent, directive,
// member, thread, reply, flags, workflow run, invitation and profile.
func (b *orgB) unchanged(t *testing.T, as *adminSite) {
	t.Helper()
	tn := as.tenantOf(b.slug)
	if a, err := as.store.AgentByID(ctx, tn, b.agentID); err != nil || a.State != store.AgentDraft {
		t.Errorf("B's agent: %v %v", a.State, err)
	}
	if d, err := as.store.Directive(ctx, tn, b.directiveID); err != nil || d.Status != store.DirectiveRequested {
		t.Errorf("B's directive: %v %v", d.Status, err)
	}
	if m, err := as.store.MemberByUserID(ctx, tn.OrgID, b.memberID); err != nil || m.Role != store.RoleMember || !m.Active() {
		t.Errorf("B's member: %+v %v", m, err)
	}
	if th, err := as.store.ForumThread(ctx, tn, b.threadID); err != nil || th.Status != store.ThreadOpen || th.Pinned || th.Solved() {
		t.Errorf("B's thread: %v pinned %v solved %v %v", th.Status, th.Pinned, th.Solved(), err)
	}
	if p, err := as.store.ForumPost(ctx, tn, b.postID); err != nil || p.Status != store.PostPublished || p.Revision != 1 || p.Reactions.Total() != 0 {
		t.Errorf("B's reply: %s revision %d reactions %v %v", p.Status, p.Revision, p.Reactions, err)
	}
	if q, _, err := as.store.FlagQueue(ctx, tn, true, 1); err != nil || len(q) != 1 || len(q[0].Flags) != 1 {
		t.Errorf("B's flag queue: %+v %v", q, err)
	}
	if w, err := as.store.Workflow(ctx, tn, b.workflowID); err != nil || w.Enabled || w.Name != "Workflow "+b.marker {
		t.Errorf("B's workflow: %+v %v", w, err)
	}
	if steps, err := as.store.Steps(ctx, as.store.DB, tn, b.runID); err != nil || len(steps) != 1 || steps[0].Status != store.StepWaiting {
		t.Errorf("B's run: %+v %v", steps, err)
	}
	if inv, err := as.store.InvitationByToken(ctx, b.inviteToken); err != nil || inv.State(time.Now()) != store.InvitationPending {
		t.Errorf("B's invitation: %+v %v", inv, err)
	}
	if u, err := as.store.UserByID(ctx, b.memberID); err != nil || u.Handle != b.memberHandle || !strings.Contains(u.Name, b.marker) {
		t.Errorf("B's member's profile: %+v %v", u, err)
	}
}

// checkAPIRoute checks one /api/v1 route: no key is a 401 (a session
// cookie is no key); A's write key gets 404 (or 403, 422) for B's ids and
// never a byte of B's data; B's read key cannot write.
func (b *orgB) checkAPIRoute(t *testing.T, as *adminSite, foreignKey, method, route, path string, foreign bool) {
	t.Helper()
	key := method + " " + route
	body := b.apiBody(route)
	if r := (apiClient{s: as.site}).call(method, path, body); r.StatusCode != http.StatusUnauthorized || b.leaks(r) {
		t.Errorf("no key %s: %d, want 401", key, r.StatusCode)
	}
	r := (apiClient{s: as.site, key: foreignKey}).call(method, path, body)
	if b.leaks(r) {
		t.Errorf("A's key %s: organization B's data in the answer (status %d)", key, r.StatusCode)
	}
	if r.StatusCode >= 500 {
		t.Errorf("A's key %s: %d", key, r.StatusCode)
	}
	if foreign && r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
		t.Errorf("A's key %s with B's ids: %d, want 404 or 403\n%s", key, r.StatusCode, r.Body)
	}
	if method != http.MethodGet {
		if r := (apiClient{s: as.site, key: b.readKey}).call(method, path, body); r.StatusCode != http.StatusForbidden {
			t.Errorf("B's read key %s: %d, want 403", key, r.StatusCode)
		}
	}
}

// apiBody is the JSON a walk sends to an API route: B's ids where the
// route takes ids, and nothing that would change A if it were accepted.
func (b *orgB) apiBody(route string) string {
	switch route {
	case "/api/v1/forums/threads":
		return `{"category_id": "` + b.catID + `", "title": "Walk", "body": "Walk"}`
	case "/api/v1/forums/threads/:id/posts":
		return `{"body": ""}`
	case "/api/v1/agents/:id/executions":
		return `{"input": "walk"}`
	case "/api/v1/installations":
		return `{"slug": ""}`
	}
	return ""
}
