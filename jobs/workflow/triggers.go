package workflow

import "sort"

// triggers are the signals a workflow can react to, with what people
// call them: the editor's picker, and what the trigger subscriber wants.
var triggers = map[string]string{
	"forum.thread.created":           "A thread is started",
	"forum.post.created":             "A post is written",
	"forum.thread.locked":            "A thread is locked",
	"forum.thread.solved":            "A thread is marked solved",
	"forum.post.flagged":             "A post is flagged",
	"package.installation.installed": "A package is installed",
	"package.installation.failed":    "A package install fails",
	"agent.execution.succeeded":      "An agent run succeeds",
	"agent.execution.failed":         "An agent run fails",
	"agent.state.changed":            "An agent changes state",
	"member.added":                   "A member is added",
	"member.role_changed":            "A member's role changes",
	"member.joined":                  "A member accepts an invitation",
	"workflow.run.succeeded":         "Another workflow succeeds",
	"workflow.run.failed":            "Another workflow fails",
}

// KnownTrigger reports whether name can start a workflow.
func KnownTrigger(name string) bool { _, ok := triggers[name]; return ok }

// TriggerNames lists the trigger signals, sorted.
func TriggerNames() []string {
	out := make([]string, 0, len(triggers))
	for n := range triggers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TriggerLabel says what a trigger signal means.
func TriggerLabel(name string) string { return triggers[name] }
