package handlers

import (
	"net/url"
	"path"
	"strings"
)

// localPath returns target, in the form it will be sent, when it is a path
// on this site; otherwise fallback. Every redirect target that comes from
// a request (redirect_to, return_to) goes through it.
//
// The check is made on what the browser will finally read, not on what
// arrived: http.Redirect cleans the path ("/x/../\evil.com" becomes
// "/\evil.com"), browsers read a backslash as a slash and drop tabs and
// newlines ("/\evil.com" and "/\t/evil.com" are "//evil.com", another
// host), and a percent-encoded path is decoded on the way. So target is
// cleaned the same way first, and refused when, raw or decoded, it holds
// a backslash or a control character, starts with "//", or names a scheme
// or a host.
func localPath(target, fallback string) string {
	if p, ok := sendablePath(target); ok {
		return p
	}
	return fallback
}

func sendablePath(target string) (string, bool) {
	if target == "" || target[0] != '/' || unsafeChars(target) {
		return "", false
	}
	p, query, _ := strings.Cut(target, "?")
	decoded, err := url.PathUnescape(p)
	if err != nil || unsafeChars(decoded) || strings.HasPrefix(decoded, "//") {
		return "", false
	}
	// As http.Redirect does: clean, keeping a trailing slash.
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	if query != "" || strings.HasSuffix(target, "?") {
		clean += "?" + query
	}
	if strings.HasPrefix(clean, "//") {
		return "", false
	}
	u, err := url.Parse(clean)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "", false
	}
	return clean, true
}

// unsafeChars reports a backslash, or an ASCII control character (NUL,
// tab, CR, LF, DEL …), any of which browsers reinterpret in a URL.
func unsafeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b == '\\' || b < 0x20 || b == 0x7f {
			return true
		}
	}
	return false
}
