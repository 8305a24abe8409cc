package handlers

import "strconv"

// waitText is a wait in words: "1 second", "40 seconds", "3 minutes".
func waitText(secs int) string {
	switch {
	case secs == 1:
		return "1 second"
	case secs < 90:
		return strconv.Itoa(secs) + " seconds"
	}
	return strconv.Itoa((secs+59)/60) + " minutes"
}
