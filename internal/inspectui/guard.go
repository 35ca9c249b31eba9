package inspectui

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// AllowedHostsFor returns the default Options.AllowedHosts for a server listening on
// listen (a host:port, or "" when unknown): the loopback names, plus the listen host
// when it is a specific one; for a wildcard host ("", "0.0.0.0", "::") also this
// machine's hostname and interface addresses.
func AllowedHostsFor(listen string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if listen == "" {
		return hosts
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return append(hosts, host)
	}
	if name, err := os.Hostname(); err == nil && name != "" {
		hosts = append(hosts, name)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				hosts = append(hosts, ipn.IP.String())
			}
		}
	}
	return hosts
}

// normalizeHost lower-cases h and drops a trailing dot and IPv6 brackets; a
// host:port keeps its port.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, port, err := net.SplitHostPort(h); err == nil {
		return net.JoinHostPort(strings.TrimSuffix(host, "."), port)
	}
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), ".")
}

// hostAllowed reports whether the Host header h names an allowed host, with any port
// or the port of a host:port entry.
func (s *Server) hostAllowed(h string) bool {
	if h == "" {
		return false
	}
	h = normalizeHost(h)
	if s.hosts[h] {
		return true
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		return s.hosts[host]
	}
	return false
}

// checkWrite returns "" when r may change state, else why not (a 403).
func (s *Server) checkWrite(r *http.Request) string {
	if !s.opts.AllowActions {
		return "actions are disabled (start hatchetflow ui with --allow-actions)"
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return "cross-site request refused (Sec-Fetch-Site: " + site + ")"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return "cross-origin request refused (Origin " + strconv.Quote(origin) + ")"
		}
	}
	token := r.Header.Get(CSRFHeader)
	if token == "" {
		return "missing " + CSRFHeader + " header"
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) != 1 {
		return "wrong " + CSRFHeader + " token (reload the page)"
	}
	return ""
}

func quote(s string) string { return strconv.Quote(s) }
