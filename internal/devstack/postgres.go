package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// pgRoot is the own cluster's folder (data/, log, socket): .state/pg, or the folder
// recorded in .state/pg.path when postgres could not reach the state dir.
func (c *Config) pgRoot() string {
	if p := readTrim(filepath.Join(c.StateDir, "pg.path")); p != "" {
		return p
	}
	return filepath.Join(c.StateDir, "pg")
}

// findPGBin is HATCHETFLOW_PG_BIN, else the newest /usr/lib/postgresql/*/bin holding
// initdb and pg_ctl.
func (c *Config) findPGBin() (string, error) {
	if c.PGBin != "" {
		return c.PGBin, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[i], dirs[j]) })
	if n := len(dirs); n > 0 {
		d := dirs[n-1]
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
}

// versionLess orders paths like `sort -V`: digit runs compare as numbers.
func versionLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			na, _ := strconv.Atoi(da)
			nb, _ := strconv.Atoi(db)
			if na != nb {
				return na < nb
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// ownPGRunning is the port of our own cluster if its postmaster runs.
func (c *Config) ownPGRunning() (int, bool) {
	pidFile := filepath.Join(c.pgRoot(), "data", "postmaster.pid")
	lines := strings.Split(readTrim(pidFile), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, _ := strconv.Atoi(strings.TrimSpace(lines[3]))
	if !PIDMatches(pid, "postgres") {
		return 0, false
	}
	return port, true
}

// ensurePostgres sets databaseURL and pgSource: DATABASE_URL; our own cluster if it
// runs; a shared server on the probe port with trust login; else an own cluster,
// started (and initialised) here.
func (s *Stack) ensurePostgres(ctx context.Context) error {
	if s.cfg.DatabaseURL != "" {
		s.databaseURL, s.pgSource = s.cfg.DatabaseURL, "DATABASE_URL from the environment"
		return nil
	}
	if port, ok := s.cfg.ownPGRunning(); ok {
		bin, err := s.cfg.findPGBin()
		if err != nil {
			return err
		}
		s.pgBin, s.pgPort = bin, port
		return s.ensureOwnDB(ctx)
	}
	if s.cfg.PGProbePort != 0 && s.sharedPGReady(ctx) {
		if user, ok := s.sharedPGUser(ctx); ok {
			return s.useSharedPG(ctx, user)
		}
		s.log.Printf("a server answers on 127.0.0.1:%d but trust login as postgres/root failed; using an own cluster", s.cfg.PGProbePort)
	}
	if err := s.startOwnPG(ctx); err != nil {
		return err
	}
	return s.ensureOwnDB(ctx)
}

func (s *Stack) sharedPGReady(ctx context.Context) bool {
	if _, err := lookPath("psql", s.cfg.Path); err != nil {
		return false
	}
	cmd, err := s.command(ctx, "pg_isready", nil, "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(s.cfg.PGProbePort), "-t", "3")
	return err == nil && cmd.Run() == nil
}

// sharedPGUser is a superuser that logs in to the shared server with trust auth.
func (s *Stack) sharedPGUser(ctx context.Context) (string, bool) {
	users := []string{"postgres", "root"}
	if u, err := user.Current(); err == nil {
		users = append(users, u.Username)
	}
	for _, u := range users {
		if _, err := s.output(ctx, "psql", nil, "-h", "127.0.0.1", "-p", strconv.Itoa(s.cfg.PGProbePort),
			"-U", u, "-d", "postgres", "-XAtqc", "select 1"); err == nil {
			return u, true
		}
	}
	return "", false
}

// psql runs one statement with psqlBin on 127.0.0.1:port as user, database postgres.
func (s *Stack) psql(ctx context.Context, psqlBin string, port int, user, sql string) (string, error) {
	return s.output(ctx, psqlBin, []string{"PGOPTIONS=-c client_min_messages=warning"},
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", user, "-d", "postgres", "-XAtq", "-c", sql)
}

// createDB creates database PGDB if it is missing.
func (s *Stack) createDB(ctx context.Context, psqlBin string, port int, user string, logCreate bool) error {
	exists, err := s.psql(ctx, psqlBin, port, user, "select 1 from pg_database where datname = '"+s.cfg.PGDB+"'")
	if err != nil {
		return err
	}
	if exists == "1" {
		return nil
	}
	if logCreate {
		s.log.Printf("creating database %s on the shared server 127.0.0.1:%d", s.cfg.PGDB, port)
	}
	_, err = s.psql(ctx, psqlBin, port, user, `create database "`+s.cfg.PGDB+`"`)
	return err
}

func (s *Stack) useSharedPG(ctx context.Context, user string) error {
	port := s.cfg.PGProbePort
	if s.cfg.PGReset && s.enginePID() == 0 {
		// CI: start from an empty database (no leftovers from killed engines or earlier runs).
		s.log.Printf("HATCHETFLOW_PG_RESET=1: dropping database %s on 127.0.0.1:%d", s.cfg.PGDB, port)
		if _, err := s.psql(ctx, "psql", port, user, `drop database if exists "`+s.cfg.PGDB+`" with (force)`); err != nil {
			return err
		}
		s.forgetToken()
	}
	if err := s.createDB(ctx, "psql", port, user, true); err != nil {
		return err
	}
	s.databaseURL = fmt.Sprintf("postgresql://%s@127.0.0.1:%d/%s?sslmode=disable", user, port, s.cfg.PGDB)
	s.pgSource = fmt.Sprintf("shared 127.0.0.1:%d", port)
	return nil
}

// forgetToken removes the minted token: the database it was minted in is gone.
func (s *Stack) forgetToken() {
	_ = os.Remove(filepath.Join(s.cfg.StateDir, "token"))
	_ = os.Remove(filepath.Join(s.cfg.StateDir, "token.key"))
}

func (s *Stack) initOwnPG(ctx context.Context) error {
	root := filepath.Join(s.cfg.StateDir, "pg")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("own cluster: %w", err)
	}
	if s.cfg.AsRoot {
		if err := chownPostgres(root); err != nil {
			return err
		}
		test, err := s.command(ctx, "runuser", nil, "-u", "postgres", "--", "test", "-w", root)
		if err != nil {
			return err
		}
		if test.Run() != nil {
			// The checkout is not traversable by the postgres user (e.g. under /root): use /tmp.
			_ = os.Remove(root)
			if root, err = os.MkdirTemp("", "hatchetflow-pg."); err != nil {
				return fmt.Errorf("own cluster: %w", err)
			}
			if err := chownPostgres(root); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(s.cfg.StateDir, "pg.path"), []byte(root+"\n"), 0o644); err != nil {
				return fmt.Errorf("own cluster: %w", err)
			}
			s.log.Printf("postgres cannot reach %s; own cluster lives in %s", s.cfg.StateDir, root)
		}
	}
	cmd, err := s.pgOwnerCommand(ctx, filepath.Join(s.pgBin, "initdb"),
		"-D", filepath.Join(root, "data"), "-U", "hatchet", "--auth=trust", "-E", "UTF8", "--no-locale")
	if err != nil {
		return err
	}
	if err := s.runLogged(cmd, "initdb"); err != nil {
		return err
	}
	conf := fmt.Sprintf(`
# --- hatchetflow test cluster (scripts/stack): throwaway data, speed over durability ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
`, root)
	f, err := os.OpenFile(filepath.Join(root, "data", "postgresql.conf"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("postgresql.conf: %w", err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("postgresql.conf: %w", err)
	}
	s.forgetToken()
	return nil
}

func chownPostgres(path string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("own cluster as root needs the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("own cluster: %w", err)
	}
	if err := os.Chmod(path, 0o700); err != nil {
		return fmt.Errorf("own cluster: %w", err)
	}
	return nil
}

func (s *Stack) startOwnPG(ctx context.Context) error {
	bin, err := s.cfg.findPGBin()
	if err != nil {
		if !s.cfg.CI {
			return fmt.Errorf("%w: apt-get install postgresql, or set DATABASE_URL", err)
		}
		if err := s.ensureAptPackage(ctx, "postgresql"); err != nil {
			return err
		}
		if bin, err = s.cfg.findPGBin(); err != nil {
			return fmt.Errorf("PostgreSQL binaries still missing after install: %w", err)
		}
	}
	s.pgBin = bin
	if _, err := os.Stat(filepath.Join(s.cfg.pgRoot(), "data", "PG_VERSION")); err != nil {
		if err := s.log.Step("initdb own cluster ("+bin+")", func() error { return s.initOwnPG(ctx) }); err != nil {
			return err
		}
	}
	root := s.cfg.pgRoot()
	logPath := filepath.Join(root, "postgres.log")
	port := s.cfg.PGPort
	for try := 1; ; try++ {
		if port, err = PickPort(ctx, s.cfg.Path, port); err != nil {
			return err
		}
		err := s.log.Step(fmt.Sprintf("start own PostgreSQL on 127.0.0.1:%d", port), func() error {
			cmd, err := s.pgOwnerCommand(ctx, filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(root, "data"),
				"-l", logPath, "-w", "-t", "60", "-o", fmt.Sprintf("-p %d", port), "start")
			if err != nil {
				return err
			}
			cmd.Stderr = s.stderr
			return cmd.Run()
		})
		if err == nil {
			break
		}
		if try == 3 {
			return fmt.Errorf("own PostgreSQL did not start: %w\n%s", err, tail(logPath, 20))
		}
		s.log.Printf("PostgreSQL failed to start on %d (see %s); trying another port", port, logPath)
		port++
	}
	if err := os.WriteFile(s.cfg.run("pg.own"), []byte("own\n"), 0o644); err != nil {
		return fmt.Errorf("run file: %w", err)
	}
	s.recordStarted("pg")
	s.pgPort = port
	return nil
}

func (s *Stack) ensureOwnDB(ctx context.Context) error {
	if err := s.createDB(ctx, filepath.Join(s.pgBin, "psql"), s.pgPort, "hatchet", false); err != nil {
		return err
	}
	s.databaseURL = fmt.Sprintf("postgresql://hatchet@127.0.0.1:%d/%s?sslmode=disable", s.pgPort, s.cfg.PGDB)
	s.pgSource = fmt.Sprintf("own cluster %s on 127.0.0.1:%d", s.cfg.pgRoot(), s.pgPort)
	return nil
}

// stopPG stops our own cluster (pg_ctl stop -m fast) if it runs.
func (s *Stack) stopPG(ctx context.Context) error {
	defer os.Remove(s.cfg.run("pg.own"))
	if _, ok := s.cfg.ownPGRunning(); !ok {
		return nil
	}
	bin, err := s.cfg.findPGBin()
	if err != nil {
		return err
	}
	return s.log.Step("stop own PostgreSQL (pg_ctl stop -m fast)", func() error {
		cmd, err := s.pgOwnerCommand(ctx, filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(s.cfg.pgRoot(), "data"),
			"-m", "fast", "-w", "-t", "60", "stop")
		if err != nil {
			return err
		}
		cmd.Stderr = s.stderr
		return cmd.Run()
	})
}
