package handlers

import "strings"

// clientSummary names a User-Agent the way people know it: "Firefox on
// Linux", "Safari on iOS". Order matters: Edge and Opera say Chrome too,
// and Chrome says Safari.
func clientSummary(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "Unknown client"
	}
	browser := firstMatch(ua, [][2]string{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"CriOS/", "Chrome"}, {"Safari/", "Safari"},
		{"curl/", "curl"}, {"Go-http-client/", "Go HTTP client"},
	})
	os := firstMatch(ua, [][2]string{
		{"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"},
	})
	switch {
	case browser == "" && os == "":
		return "Other client"
	case browser == "":
		return "A browser on " + os
	case os == "":
		return browser
	}
	return browser + " on " + os
}

// firstMatch returns the name of the first pair whose marker ua contains.
func firstMatch(ua string, pairs [][2]string) string {
	for _, p := range pairs {
		if strings.Contains(ua, p[0]) {
			return p[1]
		}
	}
	return ""
}
