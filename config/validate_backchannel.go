package config

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// backchannelClients checks each client's back-channel logout URI
// (OpenID Connect Back-Channel Logout 1.0 §2.2): an absolute URL without
// fragment, https unless in dev mode or on loopback, and, unless
// outbound.allow_private_networks is true, not a name or literal address
// that is plainly loopback, private or otherwise special-use. The
// outbound client checks the address it actually connects to as well
// (provider/outbound), which catches a name that resolves to one; this
// check only says so early, with the key path.
func (v *checker) backchannelClients(cs []ClientConfig, allowPrivate bool) {
	for i, cl := range cs {
		p := "clients[" + strconv.Itoa(i) + "]"
		v.backchannelURI(p, cl.BackchannelLogoutURI, cl.BackchannelLogoutSessionRequired, allowPrivate)
	}
}

func (v *checker) backchannelURI(p, raw string, sessionRequired, allowPrivate bool) {
	if raw == "" {
		if sessionRequired {
			v.add(p+".backchannel_logout_session_required", "needs backchannel_logout_uri: logout tokens go nowhere without it")
		}
		return
	}
	u, ok := v.webURL(p+".backchannel_logout_uri", raw, true)
	if !ok || allowPrivate {
		return
	}
	if SpecialUseHost(u.Hostname()) {
		v.add(p+".backchannel_logout_uri", "%s is a loopback, private or special-use address, which Tsubasa never calls; "+
			"set outbound.allow_private_networks: true for tests or partners on a private network", u.Hostname())
	}
}

// SpecialUseHost reports whether host is localhost (or a name under it) or
// a literal IP address that is not globally reachable: loopback, private,
// link-local, unique-local, carrier-grade NAT, unspecified or multicast.
func SpecialUseHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(h, "[]"))
	if err != nil {
		return false // a name: judged on the address it resolves to, when connecting
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip) || netip.MustParsePrefix("0.0.0.0/8").Contains(ip)
}

// CheckOutboundURL applies to raw the rules of a backchannel_logout_uri
// under c (https unless dev mode or loopback; no special-use address
// unless outbound.allow_private_networks): the admin API checks a webhook
// subscription's URL with it. The error says what is wrong, without a
// key path.
func (c Config) CheckOutboundURL(raw string) error {
	v := &checker{dev: c.Dev}
	v.backchannelURI("url", raw, false, c.Outbound.AllowPrivateNetworks)
	if len(v.problems) == 0 {
		return nil
	}
	return errors.New(v.problems[0].Message)
}
