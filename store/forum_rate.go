package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Posting is rate-limited per person (SPEC §16): threads and replies
// together, counted from the posts themselves (forum_posts_author), so
// every process agrees without a counter of its own. Two posts sent at the
// same instant may both pass at the limit's edge: the limit slows people
// and scripts down, it is not an exact quota.

// PostLimit is at most Posts posts (a thread's first post counts) per Per.
type PostLimit struct {
	Posts int
	Per   time.Duration
}

// DefaultPostLimit is the limit unless configured: a person typing can
// not reach it, a script pasting into every thread soon does.
var DefaultPostLimit = PostLimit{Posts: 10, Per: time.Minute}

// Off reports whether the limit lets everything through.
func (l PostLimit) Off() bool { return l.Posts <= 0 || l.Per <= 0 }

// String is the limit in words: "10 posts a minute".
func (l PostLimit) String() string {
	if l.Off() {
		return "no limit"
	}
	per := l.Per.String()
	switch l.Per {
	case time.Minute:
		per = "minute"
	case time.Hour:
		per = "hour"
	}
	n := strconv.Itoa(l.Posts) + " posts"
	if l.Posts == 1 {
		n = "1 post"
	}
	return n + " a " + per
}

// PostingWait is how long userID must wait before posting again under l:
// 0 when they may post now.
func (s *Store) PostingWait(ctx context.Context, t Tenant, userID int64, l PostLimit) (time.Duration, error) {
	if l.Off() {
		return 0, nil
	}
	var row struct {
		N    int     `db:"n"`
		Wait float64 `db:"wait"`
	}
	// The latest Posts posts inside the window: when there are that many,
	// the oldest of them leaving the window is when the next may come.
	err := s.getPrepared(ctx, nil, &row, t.SQL(`SELECT count(*) AS n,
			coalesce(extract(epoch FROM min(created_at) + $2 * interval '1 microsecond' - now()), 0)::float8 AS wait
		FROM (SELECT created_at FROM {tenant}.forum_posts
			WHERE author_type = 'human' AND author_id = $1 AND created_at > now() - $2 * interval '1 microsecond'
			ORDER BY created_at DESC LIMIT $3) recent`), strconv.FormatInt(userID, 10), l.Per.Microseconds(), l.Posts)
	if err != nil {
		return 0, fmt.Errorf("posting rate of user %d: %w", userID, err)
	}
	if row.N < l.Posts {
		return 0, nil
	}
	return max(time.Duration(math.Ceil(row.Wait))*time.Second, time.Second), nil
}
