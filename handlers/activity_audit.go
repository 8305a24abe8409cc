package handlers

import "fleetprompt/views"

// Sentence is the audit row in words, read on the thread's own page
// ("Ada replied to this thread", "Admin User asked to lock this
// thread"): the signal's name stays one click away (activity_raw, the
// folded signals of a directive). The wording comes from the entry
// alone, so the row's cached fragment still depends on nothing else.
func (v auditRowView) Sentence() views.Sentence {
	e := v.Entry
	f := views.Fact{Name: e.Name, At: e.At, Seq: e.Seq.Int64, Here: true, SubjectType: e.SubjectType.String,
		ActorKind: e.ActorType.String, Actor: views.Ref{Name: e.ActorName}}
	switch {
	case f.ActorKind == "":
		f.ActorKind = "system"
	case f.Actor.Name == "" && f.ActorKind == "user":
		f.Actor.Name = "Someone"
	case f.Actor.Name == "" && f.ActorKind == "agent":
		f.Actor.Name = "An agent"
	}
	if e.Kind == "directive" {
		f.Name, f.DirectiveKind = "directive.requested", e.Name
	}
	return views.Describe(f)
}
