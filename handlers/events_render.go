package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

// Live fragments: how the hub renders forum and marketplace signals with
// the pages' own blocks, so a pushed fragment is the markup a reload
// would show. Registered once, when the routes are built.
func (h *Handler) registerLiveFragments() {
	h.live.Render("forum.post.", h.withSentence(h.livePost))
	h.live.Render("forum.thread.", h.withSentence(h.liveThread))
	h.live.Render("directive.", h.withSentence(h.liveDirective))
	h.live.Render("package.", h.withSentence(h.liveInstall))
	h.live.Render("workflow.", h.withSentence(h.liveRun))
	h.registerActivityLive() // activity_live.go: every other family's sentence, the inbox badge
}

// livePayload holds the routing fields signals carry.
type livePayload struct {
	PostID      string `json:"post_id"`
	ThreadID    string `json:"thread_id"`
	DirectiveID string `json:"directive_id"`
}

func payloadOf(sig store.Signal) livePayload {
	var p livePayload
	json.Unmarshal(sig.Payload, &p) // missing fields stay empty
	return p
}

// block renders one named block (the forum and install blocks are
// partials, so any page's template set has them).
func (h *Handler) block(name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.views.Render(&buf, "dashboard", name, data); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// oob marks a fragment's root element as an out-of-band swap (e.g.
// "outerHTML" replaces the element with the same id, "delete" removes it).
func oob(html []byte, how string) []byte {
	i := bytes.IndexByte(html, '<')
	if i < 0 {
		return html
	}
	j := i + 1
	for j < len(html) && html[j] != ' ' && html[j] != '>' && html[j] != '\n' && html[j] != '/' {
		j++
	}
	out := make([]byte, 0, len(html)+32)
	out = append(out, html[:j]...)
	out = append(out, ` hx-swap-oob="`+how+`"`...)
	return append(out, html[j:]...)
}

// auditRow is the signal's row of the thread's audit trail, appended
// out of band, so every thread event also extends the trail; nil for a
// signal the trail folds into its directive's row (liveDirective
// refreshes that row instead).
func (h *Handler) auditRow(ctx context.Context, t store.Tenant, sig store.Signal) ([]byte, error) {
	if folded, err := h.store.FoldedIntoDirective(ctx, t, sig); err != nil || folded {
		return nil, err
	}
	e, err := h.store.SignalAuditEntry(ctx, sig)
	if err != nil {
		return nil, err
	}
	row, err := h.block("audit_row", auditRowView{Entry: e})
	if err != nil {
		return nil, err
	}
	return append(append([]byte(`<div hx-swap-oob="beforeend:#audit">`), row...), "</div>"...), nil
}

// livePost and liveThread, the forum's renderers, are in forum_live.go and forum_live_thread.go.

// liveDirective: on a thread page, the directive's audit row (its
// directive.* signals are folded into it) is added when requested and
// replaced in place as its status moves on; on the marketplace, a package
// directive refreshes the package's status.
func (h *Handler) liveDirective(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
	var out []live.Fragment
	if sig.SubjectType == store.SubjectForumThread || sig.SubjectType == store.SubjectForumPost {
		if id := payloadOf(sig).DirectiveID; id != "" {
			d, err := h.store.Directive(ctx, t, id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if err == nil {
				e, err := h.store.DirectiveAuditEntry(ctx, t, d)
				if err != nil {
					return nil, err
				}
				row, err := h.block("audit_row", auditRowView{Entry: e})
				if err != nil {
					return nil, err
				}
				if sig.Name == "directive.requested" {
					row = append(append([]byte(`<div hx-swap-oob="beforeend:#audit">`), row...), "</div>"...)
				} else {
					row = oob(row, "outerHTML")
				}
				out = append(out, live.Fragment{Kind: live.KindThread, HTML: row})
			}
		}
	}
	if sig.SubjectType == "package" {
		more, err := h.liveInstall(ctx, t, sig)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// liveInstall swaps a package's install status (the block the marketplace
// pages show) out of band, in the member and the manager variant.
func (h *Handler) liveInstall(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
	slug := sig.SubjectID
	if sig.SubjectType != "package" || slug == "" {
		return nil, nil
	}
	var out []live.Fragment
	for _, manage := range []bool{false, true} {
		s, err := h.InstallStatusFor(ctx, t, slug, manage, "/marketplace")
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		html, err := h.block("install_status", s)
		if err != nil {
			return nil, err
		}
		who := live.MembersOnly
		if manage {
			who = live.ModeratorsOnly
		}
		out = append(out, live.Fragment{Kind: live.KindInstallations, HTML: oob(html, "outerHTML"), For: who})
	}
	return out, nil
}
