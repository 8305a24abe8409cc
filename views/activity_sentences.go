package views

import "strings"

// sentences says each known signal, by name. Each entry is the whole
// sentence; the helpers (who, thread, ref) link what they name.
var sentences = map[string]func(s *says){
	"forum.category.created":  func(s *says) { s.who().t(" created the category ").ref(s.f.Category, "a category") },
	"forum.category.archived": func(s *says) { s.who().t(" archived the category ").ref(s.f.Category, "a category") },
	"forum.category.restored": func(s *says) { s.who().t(" restored the category ").ref(s.f.Category, "a category") },
	"forum.thread.created":    func(s *says) { s.who().t(" started ").thread().inCategory() },
	"forum.thread.locked":     func(s *says) { s.who().t(" locked ").thread() },
	"forum.thread.unlocked":   func(s *says) { s.who().t(" unlocked ").thread() },
	"forum.thread.pinned":     func(s *says) { s.who().t(" pinned ").thread() },
	"forum.thread.unpinned":   func(s *says) { s.who().t(" unpinned ").thread() },
	"forum.thread.solved":     func(s *says) { s.who().t(" marked a reply as the solution to ").thread() },
	"forum.thread.unsolved":   func(s *says) { s.who().t(" took the solution mark off a reply in ").thread() },
	"forum.post.created":      postCreated,
	"forum.post.edited":       func(s *says) { s.who().t(" edited a post in ").thread() },
	"forum.post.hidden":       postHidden,
	"forum.post.unhidden":     func(s *says) { s.who().t(" brought back a hidden post in ").thread() },
	"forum.post.deleted":      func(s *says) { s.who().t(" deleted a post in ").thread() },
	"forum.post.restored":     func(s *says) { s.who().t(" restored a deleted post in ").thread() },
	"forum.post.reacted":      func(s *says) { s.who().t(" " + reacted(s.str("kind")) + " a post in ").thread() },
	"forum.post.unreacted":    func(s *says) { s.who().t(" took back a reaction to a post in ").thread() },
	"forum.post.flagged":      postFlagged,
	"forum.flag.reviewed":     func(s *says) { s.who().t(" reviewed the flags on a post in ").thread() },
	"forum.agent.reply.requested": func(s *says) {
		s.who().t(" asked ").ref(agentOf(s), "an agent").t(" to answer in ").thread()
	},
	"forum.agent.reply.posted": func(s *says) { s.ref(agentOf(s), "An agent").t(" answered in ").thread() },
	"forum.agent.reply.failed": func(s *says) {
		s.ref(agentOf(s), "An agent").t(" could not answer in ").thread().withError()
	},

	"package.install.requested":       func(s *says) { s.who().t(" asked to install ").ref(s.f.Package, "a package") },
	"package.uninstall.requested":     func(s *says) { s.who().t(" asked to uninstall ").ref(s.f.Package, "a package") },
	"package.installation.started":    func(s *says) { s.t("Installing ").ref(s.f.Package, "a package").t(" started") },
	"package.installation.installing": func(s *says) { s.ref(s.f.Package, "A package").t(" is being installed") },
	"package.installation.installed":  func(s *says) { s.who().t(" installed ").ref(s.f.Package, "a package") },
	"package.installation.failed": func(s *says) {
		s.t("Installing ").ref(s.f.Package, "a package").t(" failed").withError()
	},
	"package.installation.uninstalled": func(s *says) { s.who().t(" uninstalled ").ref(s.f.Package, "a package") },
	"package.installation.enabled":     func(s *says) { s.who().t(" turned on ").ref(s.f.Package, "a package") },
	"package.installation.disabled":    func(s *says) { s.who().t(" turned off ").ref(s.f.Package, "a package") },

	"directive.requested": func(s *says) { s.who().t(" asked to "); task(s) },
	"directive.started":   func(s *says) { s.t("Started to "); task(s) },
	"directive.succeeded": func(s *says) { s.t("Done: "); task(s) },
	"directive.failed":    func(s *says) { s.t("Failed to "); task(s); s.withError() },
	"directive.canceled":  func(s *says) { s.who().t(" canceled the request to "); task(s) },

	"agent.created":           func(s *says) { s.who().t(" created the agent ").ref(agentOf(s), "an agent") },
	"agent.updated":           func(s *says) { s.who().t(" changed the agent ").ref(agentOf(s), "an agent") },
	"agent.archived":          func(s *says) { s.who().t(" archived the agent ").ref(agentOf(s), "an agent") },
	"agent.state.changed":     agentState,
	"workflow.created":        func(s *says) { s.who().t(" created the workflow ").ref(workflowOf(s), "a workflow") },
	"workflow.updated":        func(s *says) { s.who().t(" changed the workflow ").ref(workflowOf(s), "a workflow") },
	"workflow.enabled":        func(s *says) { s.who().t(" turned on the workflow ").ref(workflowOf(s), "a workflow") },
	"workflow.disabled":       func(s *says) { s.who().t(" turned off the workflow ").ref(workflowOf(s), "a workflow") },
	"workflow.run.started":    func(s *says) { runSays(s, "started") },
	"workflow.run.succeeded":  func(s *says) { runSays(s, "finished") },
	"workflow.run.failed":     func(s *says) { runSays(s, "failed") },
	"workflow.run.canceled":   func(s *says) { runSays(s, "was canceled") },
	"workflow.run.retried":    func(s *says) { runSays(s, "is being retried") },
	"workflow.step.waiting":   func(s *says) { runSays(s, "waits for an approval") },
	"workflow.step.started":   func(s *says) { stepSays(s, "started") },
	"workflow.step.succeeded": func(s *says) { stepSays(s, "is done") },
	"workflow.step.failed":    func(s *says) { stepSays(s, "failed"); s.withError() },
	"workflow.step.skipped":   func(s *says) { stepSays(s, "was skipped") },

	"member.added":              func(s *says) { s.who().t(" added ").ref(s.f.Member, "someone").t(" as " + s.str("role")) },
	"member.role_changed":       func(s *says) { s.who().t(" made ").ref(s.f.Member, "someone").t(" " + article(s.str("to"))) },
	"member.disabled":           func(s *says) { s.who().t(" disabled ").ref(s.f.Member, "someone") },
	"member.enabled":            func(s *says) { s.who().t(" enabled ").ref(s.f.Member, "someone") },
	"member.joined":             func(s *says) { s.ref(s.f.Member, "Someone").t(" joined as " + s.str("role")) },
	"member.invited":            func(s *says) { s.who().t(" invited " + s.str("email") + " as " + s.str("role")) },
	"member.invitation_revoked": func(s *says) { s.who().t(" took back the invitation of " + s.str("email")) },
	"api_key.created":           func(s *says) { s.who().t(" made the API key “" + s.str("name") + "”") },
	"api_key.revoked":           func(s *says) { s.who().t(" revoked the API key “" + s.str("name") + "”") },
	"webhook.endpoint.created":  func(s *says) { s.who().t(" added a webhook to " + s.str("url")) },
	"webhook.endpoint.rotated":  func(s *says) { s.who().t(" gave the webhook to " + s.str("url") + " a new secret") },
	"webhook.endpoint.enabled":  func(s *says) { s.who().t(" turned on the webhook to " + s.str("url")) },
	"webhook.endpoint.disabled": func(s *says) { s.who().t(" turned off the webhook to " + s.str("url")) },
	"webhook.endpoint.tested":   func(s *says) { s.who().t(" sent a test event to " + s.str("url")) },
}

func init() {
	// Executions end in many statuses; one sentence says each.
	for _, st := range []string{"queued", "running", "succeeded", "failed", "canceled"} {
		sentences["agent.execution."+st] = executionSentence
	}
}

// forReason says a notification from its reader's side: "mentioned you",
// "your post". A reply reads as in the feed.
var forReason = map[string]func(s *says){
	"mention":  func(s *says) { s.who().t(" mentioned you in ").thread() },
	"reaction": func(s *says) { s.who().t(" " + reacted(s.str("kind")) + " your post in ").thread() },
	"solution": func(s *says) { s.who().t(" marked your reply as the solution to ").thread() },
	"moderation": func(s *says) {
		verb := " hid your post in "
		if s.f.Name == "forum.post.deleted" {
			verb = " deleted your post in "
		}
		if s.f.ActorKind != "user" {
			s.t("Your post in ").thread().t(" was hidden after members flagged it")
			return
		}
		s.who().t(verb).thread()
	},
	"flag": func(s *says) {
		postFlagged(s)
		s.href = "/admin/flags"
	},
	"request_failed": func(s *says) { s.t("Your request to "); task(s); s.t(" failed").withError() },
	"request_done":   func(s *says) { s.t("Your request to "); task(s); s.t(" is done") },
	"approval":       func(s *says) { runSays(s, "waits for your approval") },
}

// postCreated: a thread's opening post, an agent's answer, or a reply.
// On the thread's own page (its audit trail) which post opened it is not
// known, so a post there is just "posted in this thread".
func postCreated(s *says) {
	switch {
	case s.f.FirstPost:
		s.who().t(" wrote the first post of ").thread()
	case s.f.ActorKind == "agent" && s.f.Here:
		s.who().t(" answered in ").thread()
	case s.f.ActorKind == "agent":
		s.who().t(" answered ").thread()
	case s.f.Here:
		s.who().t(" posted in ").thread()
	default:
		s.who().t(" replied to ").thread().inCategory()
	}
}

func postHidden(s *says) {
	if s.f.ActorKind != "user" && s.str("reason") == "flags" {
		s.t("A post in ").thread().t(" was hidden after members flagged it")
		return
	}
	s.who().t(" hid a post in ").thread()
}

// postFlagged never names who flagged: flags are anonymous to members.
func postFlagged(s *says) {
	s.t("A post in ").thread().t(" was flagged")
	if r := s.str("reason"); r != "" {
		s.t(" as " + strings.ReplaceAll(r, "_", " "))
	}
}

// reacted is the verb of a reaction kind.
func reacted(kind string) string {
	switch kind {
	case "like":
		return "liked"
	case "heart":
		return "loved"
	case "laugh":
		return "laughed at"
	case "celebrate":
		return "celebrated"
	}
	return "reacted to"
}

// agentOf is the agent a signal is about: looked up, or as its payload
// names it.
func agentOf(s *says) Ref {
	if s.f.Agent.Name != "" {
		return s.f.Agent
	}
	if n := s.str("agent_name"); n != "" {
		return Ref{Name: n}
	}
	return Ref{Name: s.str("name")}
}

func agentState(s *says) {
	a := agentOf(s)
	verbs := map[string]string{"deploy": "deployed", "activate": "activated", "pause": "paused", "resume": "resumed", "redeploy": "redeployed"}
	if v := verbs[s.str("action")]; v != "" && s.f.ActorKind == "user" {
		s.who().t(" "+v+" ").ref(a, "an agent")
		return
	}
	if s.str("to") == "error" {
		s.ref(a, "An agent").t(" stopped with an error")
		if r := s.str("reason"); r != "" {
			s.t(": " + r)
		}
		return
	}
	s.ref(a, "An agent").t(" is now " + s.str("to"))
}

func executionSentence(s *says) {
	a := agentOf(s)
	run := Ref{Name: "a run", Href: "/executions/" + s.str("execution_id")}
	switch strings.TrimPrefix(s.f.Name, "agent.execution.") {
	case "succeeded":
		s.ref(a, "An agent").t(" finished ").ref(run, "")
	case "failed":
		s.ref(a, "An agent").t(" failed ").ref(run, "")
	case "canceled":
		s.ref(a, "An agent").t(": ").ref(run, "").t(" was canceled")
	default:
		s.ref(a, "An agent").t(" started ").ref(run, "")
	}
}

// workflowOf is the workflow a signal names, linked to its page.
func workflowOf(s *says) Ref {
	name, id := s.str("workflow_name"), s.str("workflow_id")
	if name == "" {
		name = s.str("name")
	}
	r := Ref{Name: name}
	if id != "" {
		r.Href = "/workflows/" + id
	}
	return r
}

// runSays: "The Support auto-reply workflow failed", linked to the run.
func runSays(s *says, what string) {
	wf := workflowOf(s)
	if id := s.str("run_id"); id != "" {
		wf.Href = "/workflows/runs/" + id
	}
	if wf.Name == "" {
		s.ref(Ref{Name: "A workflow run", Href: wf.Href}, "").t(" " + what)
		return
	}
	s.t("The ").ref(wf, "").t(" workflow " + what)
}

// stepSays: "Step “draft” of the Support auto-reply workflow is done".
func stepSays(s *says, what string) {
	wf := workflowOf(s)
	if id := s.str("run_id"); id != "" {
		wf.Href = "/workflows/runs/" + id
	}
	s.t("Step ").quoted(Ref{Name: s.str("step_id")}, "").t(" of the ").ref(wf, "a").t(" workflow " + what)
}

// article: "an admin", "a member", "an owner".
func article(role string) string {
	if role == "" {
		return "something else"
	}
	if strings.ContainsAny(role[:1], "aeiou") {
		return "an " + role
	}
	return "a " + role
}
