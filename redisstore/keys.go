package redisstore

import "github.com/google/uuid"

// SignatureKey returns the key of signature id's record hash.
func (s *Store) SignatureKey(id string) string { return s.prefix + ":{sig:" + id + "}" }

// KwargsKey returns the key of signature id's kwargs hash; it shares the record's slot.
func (s *Store) KwargsKey(id string) string { return s.SignatureKey(id) + ":kw" }

// RegistryKey returns the key of the task registry hash.
func (s *Store) RegistryKey() string { return s.prefix + ":{registry}" }

// KeyPattern returns a SCAN pattern that matches every key of this store.
func (s *Store) KeyPattern() string { return s.prefix + ":*" }

// NewID returns a new signature id: a UUIDv7 string, so ids sort by creation time.
func NewID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// ValidID reports whether id has the shape of a signature id (a UUID string).
func ValidID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}
