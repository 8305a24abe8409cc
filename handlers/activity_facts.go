package handlers

import (
	"context"
	"net/url"
	"strings"

	"fleetprompt/store"
	"fleetprompt/views"
)

// Readable activity's half in the handlers: signals become views.Facts,
// with the names and pages of everything they mention looked up at once
// (store.LookupNames), and views.Describe says them. The dashboard feed,
// the live tenant stream and the inbox go through here.

// sentences says sigs in words, in order; raw says the reader may open
// the raw signal (owners, admins). Private signals come back marked
// Private, without words.
func (h *Handler) sentences(ctx context.Context, t store.Tenant, sigs []store.Signal, raw bool) ([]views.Sentence, error) {
	facts, err := h.facts(ctx, t, sigs)
	if err != nil {
		return nil, err
	}
	out := make([]views.Sentence, len(facts))
	for i, f := range facts {
		out[i] = views.Describe(f)
		out[i].Raw = raw
	}
	return out, nil
}

// facts looks up what sigs mention and makes their Facts.
func (h *Handler) facts(ctx context.Context, t store.Tenant, sigs []store.Signal) ([]views.Fact, error) {
	refs := make([]signalRefs, len(sigs))
	var q store.NameQuery
	for i, sig := range sigs {
		r := refsOf(sig)
		refs[i] = r
		for _, u := range []int64{r.user, r.member} {
			if u != 0 {
				q.Users = append(q.Users, u)
			}
		}
		q.Agents, q.Threads, q.Posts = appendSet(q.Agents, r.agent), appendSet(q.Threads, r.thread), appendSet(q.Posts, r.post)
		q.Categories, q.Packages = appendSet(q.Categories, r.cat), appendSet(q.Packages, r.pkg)
	}
	names, err := h.store.LookupNames(ctx, t, q)
	if err != nil {
		return nil, err
	}
	out := make([]views.Fact, len(sigs))
	for i, sig := range sigs {
		out[i] = h.fact(sig, refs[i], names)
	}
	return out, nil
}

// fact is one signal's Fact from the names looked up.
func (h *Handler) fact(sig store.Signal, r signalRefs, n store.ActivityNames) views.Fact {
	f := views.Fact{Seq: sig.Seq, Name: sig.Name, At: sig.OccurredAt, SubjectType: sig.SubjectType, Payload: r.payload,
		ActorKind: sig.ActorType}
	if f.ActorKind == "" {
		f.ActorKind = "system"
	}
	switch sig.ActorType {
	case "user":
		f.Actor = userRef(n.Users[r.user])
	case "agent":
		if name := n.Agents[sig.ActorID]; name != "" {
			f.Actor = views.Ref{Name: name, Href: "/agents/" + sig.ActorID}
		}
	}
	if name := n.Agents[r.agent]; name != "" {
		f.Agent = views.Ref{Name: name, Href: "/agents/" + r.agent}
	}
	if r.member != 0 {
		f.Member = userRef(n.Users[r.member])
	}
	thread := r.thread
	if th, ok := n.Posts[r.post]; ok {
		thread = th
		f.Post = views.Ref{Href: "/forums/t/" + th + "#post-" + r.post}
	}
	if name := n.Categories[r.cat]; name != "" {
		f.Category = views.Ref{Name: name, Href: "/forums/c/" + url.PathEscape(r.cat)}
	}
	if th, ok := n.Threads[thread]; ok {
		f.Thread = views.Ref{Name: th.Title, Href: "/forums/t/" + thread}
		f.FirstPost = r.post != "" && th.FirstPostID == r.post
		f.Category = views.Ref{Name: th.CategoryName, Href: "/forums/c/" + url.PathEscape(th.CategorySlug)}
	}
	if name := n.Packages[r.pkg]; name != "" {
		f.Package = views.Ref{Name: name, Href: "/marketplace/" + url.PathEscape(r.pkg)}
	}
	if strings.HasPrefix(sig.Name, "directive.") {
		f.DirectiveKind, _ = r.payload["kind"].(string)
		if h.dirs != nil {
			k, _ := h.dirs.Kind(f.DirectiveKind)
			f.DirectiveTitle = k.Title
		}
	}
	return f
}

// userRef names a person, linked to their profile.
func userRef(u store.UserName) views.Ref {
	if u.Name == "" {
		return views.Ref{Name: "Someone"}
	}
	r := views.Ref{Name: u.Name}
	if u.Handle != "" {
		r.Href = "/u/" + u.Handle
	}
	return r
}
