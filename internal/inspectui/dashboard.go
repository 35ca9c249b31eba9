package inspectui

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// EnvDashboardURL is the environment variable with the base address of Hatchet's
// dashboard (the web app that shows runs), e.g. https://cloud.onhatchet.run or
// http://localhost:8080 for hatchet-lite. Without it, [RunURLFromEnv] uses
// HATCHET_CLIENT_SERVER_URL, then the server_url of the API token.
const EnvDashboardURL = "HATCHETFLOW_UI_DASHBOARD_URL"

// ErrNoDashboard is matched by [RunURLFromEnv]'s error when the dashboard's address
// or the tenant cannot be known.
var ErrNoDashboard = errors.New("no Hatchet dashboard address")

// RunURLFromEnv returns the prefix of a run's page in Hatchet's dashboard, to which
// the page appends a run id (Options.RunURL): <base>/tenants/<tenant>/runs/. The
// base is [EnvDashboardURL], else HATCHET_CLIENT_SERVER_URL, else the server_url
// claim of HATCHET_CLIENT_TOKEN; the tenant HATCHET_CLIENT_TENANT_ID, else the
// token's subject (the tenant it was issued for). The token is only decoded, not
// verified: it is the client's own.
func RunURLFromEnv(getenv func(string) string) (string, error) {
	claims := tokenClaims(getenv("HATCHET_CLIENT_TOKEN"))
	base := strings.TrimSpace(getenv(EnvDashboardURL))
	if base == "" {
		base = strings.TrimSpace(getenv("HATCHET_CLIENT_SERVER_URL"))
	}
	if base == "" {
		base = claims.ServerURL
	}
	tenant := strings.TrimSpace(getenv("HATCHET_CLIENT_TENANT_ID"))
	if tenant == "" {
		tenant = claims.Subject
	}
	if base == "" || tenant == "" {
		return "", fmt.Errorf("%w: set %s (and HATCHET_CLIENT_TOKEN or HATCHET_CLIENT_TENANT_ID for the tenant)", ErrNoDashboard, EnvDashboardURL)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: %q is not an http(s) address", ErrNoDashboard, base)
	}
	return strings.TrimRight(u.String(), "/") + "/tenants/" + url.PathEscape(tenant) + "/runs/", nil
}

// jwtClaims are the claims of a Hatchet API token that name its server and tenant.
type jwtClaims struct {
	ServerURL string `json:"server_url"`
	Subject   string `json:"sub"`
}

// tokenClaims decodes the claims of a JWT without verifying it (zero on any error).
func tokenClaims(token string) jwtClaims {
	var c jwtClaims
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return c
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c
	}
	_ = json.Unmarshal(b, &c)
	return c
}
