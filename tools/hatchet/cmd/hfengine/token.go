package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hatchet-dev/hatchet/pkg/config/database"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
	"github.com/hatchet-dev/hatchet/pkg/config/server"
)

// File names in the state directory: the tenant API token and the fingerprint of what
// it was minted for.
const (
	tokenFile    = "token"
	tokenKeyFile = "token.key"
)

// tokenLifetime is how long a minted token is valid (as the bash stack minted them).
const tokenLifetime = 10 * 365 * 24 * time.Hour

// tokenMinLeft is the validity a kept token must still have; a token closer to its end
// is minted anew.
const tokenMinLeft = 30 * 24 * time.Hour

// tokenTarget is what a tenant API token is bound to: the database holding its row,
// the keys that sign it (server.yaml's content), the server URL it carries as a claim,
// and the tenant it is for.
type tokenTarget struct {
	databaseURL string
	keys        []byte
	serverURL   string
	tenantID    uuid.UUID
}

// fingerprint is the hex SHA-256 of the target, the content of DIR/token.key.
func (t tokenTarget) fingerprint() string {
	keys := sha256.Sum256(t.keys)
	h := sha256.New()
	fmt.Fprintf(h, "hfengine token v1\ndatabase=%s\nkeys=%x\nserver_url=%s\ntenant=%s\n",
		t.databaseURL, keys, t.serverURL, t.tenantID)
	return hex.EncodeToString(h.Sum(nil))
}

// tokenTargetFor resolves the target from the environment and the config directory the
// way Hatchet's config loader does (SERVER_URL, the seed's default tenant ID).
func tokenTargetFor(configDir string, keys []byte) (tokenTarget, error) {
	t := tokenTarget{databaseURL: os.Getenv("DATABASE_URL"), keys: keys}
	sc, err := loader.LoadServerConfigFile(keys)
	if err != nil {
		return t, fmt.Errorf("load the server config in %s: %w", configDir, err)
	}
	t.serverURL = sc.Runtime.ServerURL
	dc, err := loadDatabaseConfig(configDir)
	if err != nil {
		return t, err
	}
	if t.tenantID, err = uuid.Parse(dc.Seed.DefaultTenantID); err != nil {
		return t, fmt.Errorf("default tenant ID %q: %w", dc.Seed.DefaultTenantID, err)
	}
	return t, nil
}

// loadDatabaseConfig reads the database config as Hatchet does: configDir's
// database.yaml when present, then the environment, then the defaults.
func loadDatabaseConfig(configDir string) (*database.ConfigFile, error) {
	var files [][]byte
	path := filepath.Join(configDir, "database.yaml")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		files = append(files, b)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	dc, err := loader.LoadDatabaseConfigFile(files...)
	if err != nil {
		return nil, fmt.Errorf("load the database config: %w", err)
	}
	return dc, nil
}

// ensureToken makes sure stateDir/token holds a tenant API token for the target: kept
// when token.key matches the target and the token's row in the database is still
// valid, minted anew otherwise (then token.key is rewritten after the token).
func ensureToken(ctx context.Context, p *progress, stateDir, configDir, version string, target tokenTarget, dc *database.Layer) error {
	tokenPath := filepath.Join(stateDir, tokenFile)
	keyPath := filepath.Join(stateDir, tokenKeyFile)
	want := target.fingerprint()
	reason, err := keptTokenProblem(ctx, tokenPath, keyPath, want, dc)
	if err != nil {
		return err
	}
	if reason == "" {
		p.logf("reusing the token in %s", tokenPath)
		return nil
	}
	p.logf("minting a new token: %s", reason)
	tok, err := mintToken(ctx, configDir, version, target.tenantID)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(tokenPath, []byte(tok+"\n")); err != nil {
		return err
	}
	if err := writeFileAtomic(keyPath, []byte(want+"\n")); err != nil {
		return err
	}
	p.logf("wrote %s", tokenPath)
	return nil
}

// keptTokenProblem says why the token in tokenPath cannot be kept ("" when it can):
// missing, minted for another target, or its database row missing, revoked or near
// its end. Only an unreadable file is an error.
func keptTokenProblem(ctx context.Context, tokenPath, keyPath, want string, dc *database.Layer) (string, error) {
	tok, err := readTrimmed(tokenPath)
	if err != nil || tok == "" {
		return "no token yet", err
	}
	have, err := readTrimmed(keyPath)
	if err != nil {
		return "", err
	}
	if have != want {
		return "the database, keys, server URL or tenant changed (token.key differs)", nil
	}
	id, err := tokenID(tok)
	if err != nil {
		return fmt.Sprintf("the token cannot be read (%v)", err), nil
	}
	row, err := dc.V1.APIToken().GetAPITokenById(ctx, id)
	if err != nil {
		return fmt.Sprintf("token %s not found in the database (%v)", id, err), nil
	}
	if row.Revoked {
		return fmt.Sprintf("token %s was revoked", id), nil
	}
	if row.ExpiresAt.Valid && time.Until(row.ExpiresAt.Time) < tokenMinLeft {
		return fmt.Sprintf("token %s expires at %s", id, row.ExpiresAt.Time.Format(time.RFC3339)), nil
	}
	return "", nil
}

// readTrimmed returns a file's content without surrounding white space; a missing file
// reads as "".
func readTrimmed(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// tokenID reads the token_id claim of a Hatchet JWT (its payload, not verified: the
// database row it names is what is checked).
func tokenID(jwt string) (uuid.UUID, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return uuid.Nil, errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return uuid.Nil, fmt.Errorf("decode the JWT payload: %w", err)
	}
	var claims struct {
		TokenID string `json:"token_id"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return uuid.Nil, fmt.Errorf("parse the JWT payload: %w", err)
	}
	id, err := uuid.Parse(claims.TokenID)
	if err != nil {
		return uuid.Nil, fmt.Errorf("token_id claim %q: %w", claims.TokenID, err)
	}
	return id, nil
}

// mintToken creates a tenant API token as `hatchet-admin token create` does: it loads
// the server config (without the message queue: minting needs only the database and
// the keys) and asks its JWT manager for a long-lived token, which also writes the
// token's row.
func mintToken(ctx context.Context, configDir, version string, tenantID uuid.UUID) (string, error) {
	cleanup, srv, err := loader.NewConfigLoader(configDir).CreateServerFromConfig(version, func(scf *server.ServerConfigFile) {
		scf.MessageQueue.Enabled = false
		scf.SecurityCheck.Enabled = false
	})
	if err != nil {
		return "", fmt.Errorf("load the server config: %w", err)
	}
	defer func() {
		_ = srv.Disconnect()
		_ = cleanup()
	}()
	expires := time.Now().UTC().Add(tokenLifetime)
	name := fmt.Sprintf("hatchetflow-local-%d", time.Now().Unix())
	tok, err := srv.Auth.JWTManager.GenerateTenantToken(ctx, tenantID, name, false, &expires)
	if err != nil {
		return "", fmt.Errorf("generate a token for tenant %s: %w", tenantID, err)
	}
	return tok.Token, nil
}
