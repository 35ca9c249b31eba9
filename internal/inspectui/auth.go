package inspectui

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The environment variables that carry the inspector's credentials ([AuthFromEnv]).
// They are read from the environment only, never from the command line, where other
// users of the machine could read them.
const (
	// EnvToken is a bearer token: "Authorization: Bearer <token>", or the password of
	// HTTP basic auth with any user name (what a browser's login prompt sends).
	EnvToken = "HATCHETFLOW_UI_TOKEN"
	// EnvUser and EnvPassword are an HTTP basic auth user name and password.
	EnvUser     = "HATCHETFLOW_UI_USER"
	EnvPassword = "HATCHETFLOW_UI_PASSWORD"
)

// MinTokenLen and MinPasswordLen are the shortest token and password [Auth.Check]
// accepts.
const (
	MinTokenLen    = 16
	MinPasswordLen = 8
)

// ErrAuthConfig is matched by the errors of credentials that cannot be used (a user
// without a password, a token too short).
var ErrAuthConfig = errors.New("bad inspector credentials")

// authRealm is the realm of the WWW-Authenticate challenge.
const authRealm = "hatchetflow inspector"

// Auth is the authentication a [Server] requires on every request (Options.Auth):
// pages, assets, the API and the actions. The zero Auth requires none.
type Auth struct {
	// Token, when set, is accepted as "Authorization: Bearer <token>" and as the
	// password of HTTP basic auth with any user name.
	Token string
	// User and Password, when set, are accepted as HTTP basic auth.
	User, Password string
}

// Enabled reports whether a is any credential at all.
func (a Auth) Enabled() bool { return a.Token != "" || a.User != "" || a.Password != "" }

// Check returns an error matching [ErrAuthConfig] when a cannot be used: a user
// without a password or the other way round, a token shorter than [MinTokenLen], a
// password shorter than [MinPasswordLen], or a user name with a colon.
func (a Auth) Check() error {
	switch {
	case (a.User == "") != (a.Password == ""):
		return fmt.Errorf("%w: set both %s and %s, or neither", ErrAuthConfig, EnvUser, EnvPassword)
	case a.Token != "" && utf8.RuneCountInString(a.Token) < MinTokenLen:
		return fmt.Errorf("%w: %s is shorter than %d characters", ErrAuthConfig, EnvToken, MinTokenLen)
	case a.Password != "" && utf8.RuneCountInString(a.Password) < MinPasswordLen:
		return fmt.Errorf("%w: %s is shorter than %d characters", ErrAuthConfig, EnvPassword, MinPasswordLen)
	case strings.Contains(a.User, ":"):
		return fmt.Errorf("%w: %s must not contain a colon", ErrAuthConfig, EnvUser)
	}
	return nil
}

// AuthFromEnv reads the credentials from getenv (os.Getenv): [EnvToken], [EnvUser]
// and [EnvPassword]. It returns the zero Auth when none is set, and an error matching
// [ErrAuthConfig] when they cannot be used (see [Auth.Check]).
func AuthFromEnv(getenv func(string) string) (Auth, error) {
	a := Auth{Token: getenv(EnvToken), User: getenv(EnvUser), Password: getenv(EnvPassword)}
	if err := a.Check(); err != nil {
		return Auth{}, err
	}
	return a, nil
}

// authorizer checks requests against an Auth in constant time: it compares SHA-256
// digests of what was sent and what is expected, so neither the content nor the
// length of a secret shows in how long a refusal takes.
type authorizer struct {
	on                  bool
	token, user, passwd [sha256.Size]byte
	hasToken, hasUser   bool
}

func newAuthorizer(a Auth) authorizer {
	return authorizer{on: a.Enabled(), hasToken: a.Token != "", hasUser: a.User != "",
		token: sha256.Sum256([]byte(a.Token)), user: sha256.Sum256([]byte(a.User)), passwd: sha256.Sum256([]byte(a.Password))}
}

// same reports in constant time whether s hashes to want.
func same(s string, want [sha256.Size]byte) int {
	got := sha256.Sum256([]byte(s))
	return subtle.ConstantTimeCompare(got[:], want[:])
}

// allowed reports whether r carries the credentials (always true when none are set).
func (z *authorizer) allowed(r *http.Request) bool {
	if !z.on {
		return true
	}
	h := r.Header.Get("Authorization")
	if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return z.hasToken && same(strings.TrimSpace(tok), z.token) == 1
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	ok1 := z.hasUser && same(user, z.user)&same(pass, z.passwd) == 1
	ok2 := z.hasToken && same(pass, z.token) == 1
	return ok1 || ok2
}

// challenge answers a request without the right credentials: 401 with a basic auth
// challenge, so that a browser asks for them.
func challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+authRealm+`", charset="UTF-8"`)
	writeError(w, http.StatusUnauthorized, "authentication required: a bearer token or basic auth")
}
