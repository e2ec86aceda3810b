package app

import (
	"tsubasa/config"
	"tsubasa/provider/clientaddr"
)

// clientResolver builds the client address derivation from trusted_proxies
// and proxy_header (Validate has checked both; this reports a bad value
// again, by its key path, for configs built in code).
func clientResolver(cfg config.Config) (*clientaddr.Resolver, error) {
	prefixes, err := cfg.TrustedProxyPrefixes()
	if err != nil {
		return nil, err
	}
	header := clientaddr.HeaderXForwardedFor
	if cfg.ProxyHeader == config.ProxyHeaderForwarded {
		header = clientaddr.HeaderForwarded
	}
	return clientaddr.New(prefixes, header)
}
