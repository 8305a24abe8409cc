package views

import (
	"strconv"
	"strings"
	"time"
)

// Readable activity (SPEC §16): the one place where a signal becomes a
// sentence people read — "Ada replied to “Printer jams” in Support",
// "Admin User installed Customer Support Hub", "The Support auto-reply
// workflow failed" — with links to what it is about. The dashboard feed,
// the thread's audit trail and the notifications inbox all say it this
// way; the raw signal stays one click away (Sentence.Name, RawHref).
//
// Views know nothing of the store: the handlers give a Fact, the signal
// with the names and links of what it mentions already looked up.

// Fact is one signal as its sentence is made of it.
type Fact struct {
	Seq  int64
	Name string // the signal's name, e.g. forum.post.created
	At   time.Time
	// Actor is who did it (a person or an agent, linked when it has a
	// page); ActorKind is "user", "agent" or "system" (Actor.Name empty).
	Actor     Ref
	ActorKind string
	// SubjectType is the signal's subject type (chat_* is private).
	SubjectType string
	// Payload is the signal's payload, decoded.
	Payload map[string]any
	// What the signal mentions, looked up; a zero Ref is unknown (gone,
	// or not mentioned).
	Thread, Category, Post, Package, Agent, Member Ref
	// FirstPost says the post is its thread's opening post.
	FirstPost bool
	// DirectiveKind and DirectiveTitle name what a directive.* signal's
	// directive asked for (its kind and the kind's title).
	DirectiveKind, DirectiveTitle string
	// Here says the sentence is read on the thread's own page (its audit
	// trail): the thread is "this thread".
	Here bool
	// Reason is why the reader is told, in a notification ("mention",
	// "reaction", …); empty in feeds.
	Reason string
}

// Ref is something a sentence names: its name and, if it has a page,
// where.
type Ref struct{ Name, Href string }

// Sentence is a signal in words.
type Sentence struct {
	Seq  int64
	At   time.Time
	Name string // the raw signal name
	// Parts are the words, some of them links.
	Parts []Part
	// Href is the page of what the sentence is about ("" when none).
	Href string
	// Private marks a signal that belongs to one person (their chat,
	// their notifications): feeds never show it.
	Private bool
	// Raw says the reader may open the raw signal (RawHref): owners and
	// admins.
	Raw bool
	// Opening marks a thread's first post: a feed that shows the thread
	// being started leaves it out, as the same event said twice.
	Opening bool
}

// Part is a piece of a sentence: text, a link when Href is set, in
// quotation marks when Quote (a title).
type Part struct {
	Text, Href string
	Quote      bool
}

// Text is the sentence as plain text (for tests, titles, screen readers).
func (s Sentence) Text() string {
	var b strings.Builder
	for _, p := range s.Parts {
		if p.Quote {
			b.WriteString("“" + p.Text + "”")
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// RawHref is the signal in the admin's signal log (owners and admins).
func (s Sentence) RawHref() string {
	return "/admin/signals?after=" + strconv.FormatInt(s.Seq+1, 10) + "&limit=1"
}

// ElementID is the sentence's stable HTML id in a feed: a row already
// shown is not added twice.
func (s Sentence) ElementID() string { return "activity-" + strconv.FormatInt(s.Seq, 10) }

// PrivateSignal reports whether a signal belongs to one person alone: a
// member's chat (SPEC §17), or their notifications.
func PrivateSignal(name, subjectType string) bool {
	return strings.HasPrefix(name, "chat.") || strings.HasPrefix(subjectType, "chat_") ||
		strings.HasPrefix(name, "notification.")
}

// Describe says what f means, in a sentence. A signal name it does not
// know gets a plain generic sentence (who, and the name in words), never
// the dotted name alone.
func Describe(f Fact) Sentence {
	out := Sentence{Seq: f.Seq, At: f.At, Name: f.Name}
	if PrivateSignal(f.Name, f.SubjectType) {
		out.Private = true
		return out
	}
	s := &says{f: f}
	if fn := forReason[f.Reason]; fn != nil {
		fn(s)
	} else if fn := sentences[f.Name]; fn != nil {
		fn(s)
	} else {
		generic(s)
	}
	out.Parts, out.Href = s.parts, s.href
	out.Opening = f.FirstPost && f.Name == "forum.post.created"
	return out
}

// says builds one sentence.
type says struct {
	f     Fact
	parts []Part
	href  string
}

func (s *says) t(text string) *says {
	if text != "" {
		s.parts = append(s.parts, Part{Text: text})
	}
	return s
}

// ref names r, linked when it has a page; or says unknown.
func (s *says) ref(r Ref, unknown string) *says {
	if r.Name == "" {
		return s.t(unknown)
	}
	s.parts = append(s.parts, Part{Text: r.Name, Href: r.Href})
	if s.href == "" {
		s.href = r.Href
	}
	return s
}

// quoted names a title in quotation marks, linked.
func (s *says) quoted(r Ref, unknown string) *says {
	if r.Name == "" {
		return s.t(unknown)
	}
	s.parts = append(s.parts, Part{Text: r.Name, Href: r.Href, Quote: true})
	if s.href == "" {
		s.href = r.Href
	}
	return s
}

// who is the actor: a person, an agent, or FleetPrompt itself. The
// actor's page is not what the sentence is about (Href).
func (s *says) who() *says {
	if s.f.Actor.Name == "" {
		return s.t("FleetPrompt")
	}
	s.parts = append(s.parts, Part{Text: s.f.Actor.Name, Href: s.f.Actor.Href})
	return s
}

// thread is the thread the signal is about, linked at the post when
// there is one; "this thread" on its own page.
func (s *says) thread() *says {
	if s.f.Here {
		return s.t("this thread")
	}
	th := s.f.Thread
	if s.f.Post.Href != "" && th.Name != "" {
		th.Href = s.f.Post.Href
	}
	return s.quoted(th, "a thread")
}

// inCategory adds " in <category>" when it is known and helps.
func (s *says) inCategory() *says {
	if s.f.Here || s.f.Category.Name == "" {
		return s
	}
	return s.t(" in ").ref(s.f.Category, "")
}

// str is a string field of the payload.
func (s *says) str(field string) string {
	v, _ := s.f.Payload[field].(string)
	return v
}

// withError adds ": <error>" when the payload has one.
func (s *says) withError() *says {
	if e := s.str("error"); e != "" {
		return s.t(": " + e)
	}
	return s
}

// generic: who, then the name in words ("Ada — widget spun up").
func generic(s *says) {
	words := strings.NewReplacer(".", " ", "_", " ").Replace(s.f.Name)
	s.who().t(" — " + words)
}
