package handlers

import "net/url"

// pageLinks fills Next and First for a list paged by the cursor parameter.
func (v *adminView) pageLinks(path, cursor, next string) {
	q := cloneValues(v.Query)
	if q.Get(cursor) != "" {
		q.Del(cursor)
		v.First = withQuery(path, q)
	}
	if next != "" {
		q.Set(cursor, next)
		v.Next = withQuery(path, q)
	}
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// withQuery joins a path and its non-empty parameters.
func withQuery(path string, q url.Values) string {
	for k, vs := range q {
		if len(vs) == 0 || vs[0] == "" {
			delete(q, k)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
