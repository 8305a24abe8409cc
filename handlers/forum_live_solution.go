package handlers

import (
	"context"
	"strings"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

// liveSolution is the answer at the top (per audience: the page it links
// to counts the posts each sees) and the "Solution" marks of the posts
// that gained and lost it.
func (h *Handler) liveSolution(ctx context.Context, t store.Tenant, th store.ForumThread, sig store.Signal) ([]live.Fragment, error) {
	var p struct {
		PostID   string `json:"post_id"`
		Previous string `json:"previous_post_id"`
	}
	sig.DecodePayload(&p)
	var marks []byte
	for _, pid := range []string{p.PostID, p.Previous} {
		if !store.IsUUID(pid) {
			continue
		}
		post := store.ForumPost{ID: strings.ToLower(pid)}
		b, err := h.block("solution_mark", forumPostView{Post: post, Thread: threadOf(th)})
		if err != nil {
			return nil, err
		}
		marks = append(marks, oob(b, "outerHTML")...)
	}
	var out []live.Fragment
	for _, mod := range []bool{false, true} {
		sol, err := h.store.SolutionOf(ctx, t, th, mod)
		if err != nil {
			return nil, err
		}
		b, err := h.block("thread_solution", threadSolutionView{ThreadID: th.ID, Solution: sol})
		if err != nil {
			return nil, err
		}
		who := live.MembersOnly
		if mod {
			who = live.ModeratorsOnly
		}
		out = append(out, live.Fragment{Kind: live.KindThread, HTML: append(oob(b, "outerHTML"), marks...), For: who})
	}
	return out, nil
}
