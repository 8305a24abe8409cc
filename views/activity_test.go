package views_test

import (
	"strings"
	"testing"

	"fleetprompt/views"
)

func TestDescribeSaysSignalsInWords(t *testing.T) {
	ada := views.Ref{Name: "Ada", Href: "/u/ada"}
	jams := views.Ref{Name: "Printer jams", Href: "/forums/t/t1"}
	support := views.Ref{Name: "Support", Href: "/forums/c/support"}
	hub := views.Ref{Name: "Customer Support Hub", Href: "/marketplace/customer-support"}
	cases := []struct {
		f    views.Fact
		want string
	}{
		{views.Fact{Name: "forum.post.created", Actor: ada, ActorKind: "user", Thread: jams, Category: support},
			"Ada replied to “Printer jams” in Support"},
		{views.Fact{Name: "forum.post.created", Actor: views.Ref{Name: "Ticket Manager"}, ActorKind: "agent", Thread: jams},
			"Ticket Manager answered “Printer jams”"},
		{views.Fact{Name: "forum.post.created", Actor: ada, ActorKind: "user", Thread: jams, FirstPost: true, Here: true},
			"Ada wrote the first post of this thread"},
		{views.Fact{Name: "forum.post.created", Actor: ada, ActorKind: "user", Thread: jams, Here: true},
			"Ada posted in this thread"},
		{views.Fact{Name: "package.installation.installed", Actor: views.Ref{Name: "Admin User"}, ActorKind: "user", Package: hub},
			"Admin User installed Customer Support Hub"},
		{views.Fact{Name: "workflow.run.failed", ActorKind: "system",
			Payload: map[string]any{"workflow_name": "Support auto-reply", "run_id": "r1"}},
			"The Support auto-reply workflow failed"},
		{views.Fact{Name: "directive.failed", ActorKind: "system", DirectiveKind: "forum.thread.lock", Thread: jams,
			Payload: map[string]any{"error": "thread is archived"}},
			"Failed to lock “Printer jams”: thread is archived"},
		{views.Fact{Name: "directive.requested", Actor: ada, ActorKind: "user", DirectiveKind: "agent.execute", DirectiveTitle: "Run an agent"},
			"Ada asked to run an agent"},
		{views.Fact{Name: "forum.post.reacted", Actor: ada, ActorKind: "user", Thread: jams, Reason: "reaction",
			Payload: map[string]any{"kind": "heart"}},
			"Ada loved your post in “Printer jams”"},
		{views.Fact{Name: "forum.post.created", Actor: ada, ActorKind: "user", Thread: jams, Reason: "mention"},
			"Ada mentioned you in “Printer jams”"},
		{views.Fact{Name: "directive.failed", ActorKind: "system", DirectiveKind: "package.install", Package: hub, Reason: "request_failed",
			Payload: map[string]any{"error": "needs tier pro"}},
			"Your request to install Customer Support Hub failed: needs tier pro"},
		{views.Fact{Name: "workflow.step.waiting", ActorKind: "system", Reason: "approval",
			Payload: map[string]any{"workflow_name": "Service Request", "run_id": "r2"}},
			"The Service Request workflow waits for your approval"},
		{views.Fact{Name: "forum.post.flagged", ActorKind: "system", Thread: jams, Payload: map[string]any{"reason": "off_topic"}},
			"A post in “Printer jams” was flagged as off topic"},
		{views.Fact{Name: "widget.spun_up", Actor: ada, ActorKind: "user"}, "Ada — widget spun up"},
		{views.Fact{Name: "forum.thread.locked", ActorKind: "system"}, "FleetPrompt locked a thread"},
	}
	for _, c := range cases {
		s := views.Describe(c.f)
		if got := s.Text(); got != c.want {
			t.Errorf("%s (%s): %q, want %q", c.f.Name, c.f.Reason, got, c.want)
		}
		if strings.Contains(s.Text(), c.f.Name) {
			t.Errorf("%s: the sentence shows the raw name: %q", c.f.Name, s.Text())
		}
	}
}

func TestDescribeLinksWhatItNames(t *testing.T) {
	s := views.Describe(views.Fact{Name: "forum.post.created", Actor: views.Ref{Name: "Ada", Href: "/u/ada"}, ActorKind: "user",
		Thread: views.Ref{Name: "Printer jams", Href: "/forums/t/t1"}, Post: views.Ref{Href: "/forums/t/t1#post-p1"}})
	links := map[string]string{}
	for _, p := range s.Parts {
		if p.Href != "" {
			links[p.Text] = p.Href
		}
	}
	if links["Ada"] != "/u/ada" || links["Printer jams"] != "/forums/t/t1#post-p1" || s.Href != "/forums/t/t1#post-p1" {
		t.Errorf("links %v, href %q", links, s.Href)
	}
	if s.RawHref() != "/admin/signals?after=1&limit=1" {
		t.Errorf("raw %q", s.RawHref())
	}
}

func TestDescribeKeepsPrivateSignalsPrivate(t *testing.T) {
	for _, f := range []views.Fact{
		{Name: "chat.message.created", Actor: views.Ref{Name: "Ada"}},
		{Name: "agent.execution.succeeded", SubjectType: "chat_message"},
		{Name: "notification.created"},
	} {
		if s := views.Describe(f); !s.Private || len(s.Parts) != 0 {
			t.Errorf("%s / %s: %+v", f.Name, f.SubjectType, s)
		}
	}
}
