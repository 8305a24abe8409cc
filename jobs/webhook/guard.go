package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"fleetprompt/store"
)

// The SSRF guard: a webhook URL is typed by an organization's admin, and
// the platform's workers would POST to it from inside our network. So no
// delivery may reach loopback, private, link-local, multicast, unspecified
// or otherwise non-public addresses. The URL's host is checked when the
// endpoint is saved (every address it resolves to), and again when each
// attempt dials: the dialer's Control func sees the address actually
// being connected to, after resolution, so a name that resolved to a
// public address at save time and to 127.0.0.1 now (DNS rebinding) is
// still refused. AllowPrivate (WEBHOOK_ALLOW_PRIVATE) turns both off for
// tests and local development.

// errRefusedAddress is an attempt the guard stopped.
var errRefusedAddress = errors.New("refused: the address is not public")

// nonPublic are the ranges netip's predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: may embed a private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2002::/16"),      // 6to4: may embed a private IPv4
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
	netip.MustParsePrefix("2001::/32"),      // Teredo: may embed anything
	netip.MustParsePrefix("255.255.255.255/32"),
}

// Public reports whether a delivery may reach ip.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// guardControl is the dialer's Control func: it runs after resolution,
// for the address being connected to.
func guardControl(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errRefusedAddress, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !Public(ip) {
		return fmt.Errorf("%w: %s", errRefusedAddress, host)
	}
	return nil
}

// CheckURL checks an endpoint URL as it is saved: http or https, a host,
// and (unless allowPrivate) only public addresses behind it. Its refusals
// are *store.ValidationError on the url field.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", store.Invalid("url", "can't be blank")
	case err != nil || u.Host == "" || u.Opaque != "":
		return "", store.Invalid("url", "is not a URL (e.g. https://example.com/hooks/fleetprompt)")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", store.Invalid("url", "must start with https:// (or http://)")
	case u.Fragment != "":
		return "", store.Invalid("url", "must not have a #fragment")
	}
	if allowPrivate {
		return u.String(), nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if addrs, err = net.DefaultResolver.LookupNetIP(rctx, "ip", host); err != nil || len(addrs) == 0 {
			return "", store.Invalid("url", fmt.Sprintf("%s could not be resolved: check the host name", host))
		}
	}
	for _, ip := range addrs {
		if !Public(ip) {
			return "", store.Invalid("url", fmt.Sprintf("%s is not a public address (%s): webhooks are only sent to the public internet", host, ip.Unmap()))
		}
	}
	return u.String(), nil
}
