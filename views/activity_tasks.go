package views

import "strings"

// task says what a directive asks for, as the end of "Ada asked to …":
// "lock “Printer jams”", "install Customer Support Hub". A kind it does
// not know says its title ("Run an agent" → "run an agent").
func task(s *says) {
	switch s.f.DirectiveKind {
	case "forum.thread.lock":
		s.t("lock ").thread()
	case "forum.thread.unlock":
		s.t("unlock ").thread()
	case "forum.thread.pin":
		s.t("pin ").thread()
	case "forum.thread.unpin":
		s.t("unpin ").thread()
	case "forum.post.hide":
		s.t("hide a post in ").thread()
	case "forum.post.unhide":
		s.t("bring back a post in ").thread()
	case "forum.post.delete":
		s.t("delete a post in ").thread()
	case "forum.post.restore":
		s.t("restore a post in ").thread()
	case "forum.post.create":
		s.t("post in ").thread()
	case "forum.agent.reply":
		s.t("have an agent answer in ").thread()
	case "package.install":
		s.t("install ").ref(s.f.Package, "a package")
	case "package.uninstall":
		s.t("uninstall ").ref(s.f.Package, "a package")
	case "agent.execute":
		s.t("run ").ref(agentOf(s), "an agent")
	case "agent.deploy":
		s.t("deploy ").ref(agentOf(s), "an agent")
	default:
		s.t(lowerFirst(taskTitle(s.f)))
	}
}

// taskTitle is the kind's title, or its name in words.
func taskTitle(f Fact) string {
	if f.DirectiveTitle != "" {
		return f.DirectiveTitle
	}
	if f.DirectiveKind == "" {
		return "do something"
	}
	return strings.NewReplacer(".", " ", "_", " ").Replace(f.DirectiveKind)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
