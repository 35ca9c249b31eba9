package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hatchet-dev/hatchet/cmd/hatchet-admin/cli/seed"
	"github.com/hatchet-dev/hatchet/cmd/hatchet-migrate/migrate"
	"github.com/hatchet-dev/hatchet/pkg/config/database"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
)

// prepare gets a database and a state directory ready for serve, each step idempotent:
// Hatchet's migrations, the instance's keys (stateDir/config/server.yaml, generated
// once), the default tenant (seeded once), and a tenant API token in stateDir/token
// for this database, these keys and this SERVER_URL (minted only when one of them
// changed or the token is missing or no longer in the database).
func prepare(ctx context.Context, p *progress, stateDir string) error {
	if os.Getenv("DATABASE_URL") == "" {
		return errors.New("DATABASE_URL is not set")
	}
	version, err := hatchetVersion()
	if err != nil {
		return err
	}
	p.logf("prepare %s with Hatchet %s", stateDir, version)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("create the state directory: %w", err)
	}
	if err := p.step("migrate", func() error { return migrate.RunMigrations(ctx) }); err != nil {
		return err
	}
	var configDir string
	var keys []byte
	if err := p.step("keys", func() (err error) {
		configDir, keys, err = ensureKeys(p, stateDir)
		return err
	}); err != nil {
		return err
	}
	target, err := tokenTargetFor(configDir, keys)
	if err != nil {
		return err
	}
	var dc *database.Layer
	if err := p.step("seed", func() (err error) {
		dc, err = seedDefaultTenant(configDir)
		return err
	}); err != nil {
		return err
	}
	defer func() { _ = dc.Disconnect() }()
	if err := p.step("token", func() error {
		return ensureToken(ctx, p, stateDir, configDir, version, target, dc)
	}); err != nil {
		return err
	}
	p.logf("prepare done")
	return nil
}

// seedDefaultTenant creates the default tenant (and the admin user when ADMIN_EMAIL and
// ADMIN_PASSWORD are set) unless it exists, as `hatchet-admin seed` does, and returns
// the open data layer (the token check uses it; the caller disconnects it).
func seedDefaultTenant(configDir string) (*database.Layer, error) {
	dc, err := loader.NewConfigLoader(configDir).InitDataLayer()
	if err != nil {
		return nil, fmt.Errorf("connect to the database: %w", err)
	}
	if err := seed.SeedDatabase(dc); err != nil {
		_ = dc.Disconnect()
		return nil, fmt.Errorf("seed the default tenant: %w", err)
	}
	return dc, nil
}
