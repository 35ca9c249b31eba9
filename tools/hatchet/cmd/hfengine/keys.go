package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/hatchet-dev/hatchet/pkg/encryption"
	"github.com/hatchet-dev/hatchet/pkg/random"
)

// configDirName is the folder of the state directory that Hatchet's config loader
// reads (server.yaml; database.yaml is not written: the database settings come from
// the environment).
const configDirName = "config"

// serverYAML is the one config file prepare writes, in configDirName.
const serverYAML = "server.yaml"

// keysHeader opens the generated server.yaml.
const keysHeader = "# Written once by `hfengine prepare`: this Hatchet instance's secrets. The tokens\n" +
	"# minted by prepare are signed with them: deleting this file invalidates them.\n" +
	"# Every other server setting comes from the environment.\n"

// serverKeys is the part of Hatchet's server config file (pkg/config/server,
// ServerConfigFile) that holds the secrets `hatchet-admin quickstart` generates: the
// cookie hash and block keys, the local master keyset and the JWT keysets encrypted
// with it. The yaml names are Hatchet's mapstructure names, so a server.yaml written
// by quickstart is read as well.
type serverKeys struct {
	Auth       authKeys       `yaml:"auth"`
	Encryption encryptionKeys `yaml:"encryption"`
}

// authKeys is server.yaml's auth section: the session cookie secrets.
type authKeys struct {
	Cookie cookieKeys `yaml:"cookie"`
}

// cookieKeys holds "HASHKEY BLOCKKEY", two random strings.
type cookieKeys struct {
	Secrets string `yaml:"secrets"`
}

// encryptionKeys is server.yaml's encryption section: the master keyset (base64 JSON)
// and the JWT keysets.
type encryptionKeys struct {
	MasterKeyset string  `yaml:"masterKeyset"`
	JWT          jwtKeys `yaml:"jwt"`
}

// jwtKeys are the public and private JWT keysets, encrypted with the master keyset.
type jwtKeys struct {
	PublicJWTKeyset  string `yaml:"publicJWTKeyset"`
	PrivateJWTKeyset string `yaml:"privateJWTKeyset"`
}

// complete reports whether every secret is present.
func (k serverKeys) complete() bool {
	return k.Auth.Cookie.Secrets != "" && k.Encryption.MasterKeyset != "" &&
		k.Encryption.JWT.PublicJWTKeyset != "" && k.Encryption.JWT.PrivateJWTKeyset != ""
}

// generateKeys makes a new set of secrets the way Hatchet's quickstart does: two
// 16-character random cookie keys, and a local master keyset with the JWT keysets.
func generateKeys() (serverKeys, error) {
	var k serverKeys
	hashKey, err := random.Generate(16)
	if err != nil {
		return k, fmt.Errorf("cookie hash key: %w", err)
	}
	blockKey, err := random.Generate(16)
	if err != nil {
		return k, fmt.Errorf("cookie block key: %w", err)
	}
	k.Auth.Cookie.Secrets = hashKey + " " + blockKey
	master, private, public, _, err := encryption.GenerateLocalKeys()
	if err != nil {
		return k, fmt.Errorf("master and JWT keysets: %w", err)
	}
	k.Encryption.MasterKeyset = string(master)
	k.Encryption.JWT.PrivateJWTKeyset = string(private)
	k.Encryption.JWT.PublicJWTKeyset = string(public)
	return k, nil
}

// ensureKeys makes sure stateDir/config/server.yaml holds a complete set of secrets:
// it generates them on the first call and keeps them afterwards. It returns the config
// directory and the file's content (the token fingerprint covers it). A file that
// exists but lacks a secret is an error, not replaced: tokens may depend on it.
func ensureKeys(p *progress, stateDir string) (configDir string, content []byte, err error) {
	configDir = filepath.Join(stateDir, configDirName)
	path := filepath.Join(configDir, serverYAML)
	content, err = readKeys(path)
	if err == nil {
		p.logf("reusing the keys in %s", path)
		return configDir, content, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", nil, err
	}
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return "", nil, fmt.Errorf("create %s: %w", configDir, err)
	}
	k, err := generateKeys()
	if err != nil {
		return "", nil, err
	}
	body, err := yaml.Marshal(k)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", path, err)
	}
	created, err := createExclusive(path, append([]byte(keysHeader), body...))
	if err != nil {
		return "", nil, err
	}
	if created {
		p.logf("generated new keys in %s", path)
	} else {
		p.logf("another prepare wrote %s first: using its keys", path)
	}
	content, err = readKeys(path)
	if err != nil {
		return "", nil, err
	}
	return configDir, content, nil
}

// readKeys reads and checks an existing server.yaml, tightening its mode to 0600. A
// missing file gives an error that matches fs.ErrNotExist.
func readKeys(path string) ([]byte, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var k serverKeys
	if err := yaml.Unmarshal(content, &k); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if !k.complete() {
		return nil, fmt.Errorf("%s lacks a secret (auth.cookie.secrets, encryption.masterKeyset, encryption.jwt.*); "+
			"delete it to generate new keys (tokens minted with the old ones stop working)", path)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return content, nil
}

// createExclusive writes data to path, mode 0600, unless path exists: it reports
// whether it created the file. The data go to a temporary file first, linked into
// place only when complete, so a reader never sees half a file and two concurrent
// writers cannot both win.
func createExclusive(path string, data []byte) (bool, error) {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	return true, nil
}

// writeFileAtomic replaces path with data, mode 0600, through a renamed temporary file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

// writeTemp writes data to a new 0600 file beside path, synced, and returns its name.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("create a temporary file beside %s: %w", path, err)
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}
