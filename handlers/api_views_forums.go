package handlers

import (
	"time"

	"fleetprompt/store"
)

type apiThread struct {
	ID           string    `json:"id"`
	Title        string    `json:"title"`
	Status       string    `json:"status"`
	CategoryID   string    `json:"category_id"`
	CategorySlug string    `json:"category_slug"`
	Pinned       bool      `json:"pinned"`
	PostCount    int       `json:"post_count"`
	CreatedAt    time.Time `json:"created_at"`
	LastPostAt   time.Time `json:"last_post_at"`
}

func toAPIThread(t store.ForumThread) apiThread {
	return apiThread{ID: t.ID, Title: t.Title, Status: t.State(), CategoryID: t.CategoryID, CategorySlug: t.CategorySlug,
		Pinned: t.Pinned, PostCount: t.PostCount, CreatedAt: t.CreatedAt, LastPostAt: t.LastPostAt}
}

type apiPost struct {
	ID         string    `json:"id"`
	ThreadID   string    `json:"thread_id"`
	Body       string    `json:"body"`
	AuthorType string    `json:"author_type"`
	AuthorID   *string   `json:"author_id"`
	CreatedAt  time.Time `json:"created_at"`
}

func toAPIPost(p store.ForumPost) apiPost {
	return apiPost{ID: p.ID, ThreadID: p.ThreadID, Body: p.Content, AuthorType: p.AuthorType, AuthorID: strPtr(p.AuthorID), CreatedAt: p.CreatedAt}
}
