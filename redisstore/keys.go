package redisstore

import (
	"fmt"
	"hash/crc32"

	"github.com/google/uuid"
)

// IndexShards is how many index shards the store keeps. A record's keys and the
// indexes that list it share the hash tag of its shard ({s00} … {s0f}), so each
// transition updates the record and its index entries in one Lua script, on Redis
// Cluster too; a listing reads the shards in one pipeline. Changing it re-homes every
// key: it is a constant of the key layout, not an option.
const IndexShards = 16

// shard returns the shard of record id: the CRC-32 (IEEE) of id modulo IndexShards,
// computed over the string in place (crc32.ChecksumIEEE would need a []byte copy).
func shard(id string) int {
	crc := ^uint32(0)
	for i := 0; i < len(id); i++ {
		crc = crc32.IEEETable[byte(crc)^id[i]] ^ (crc >> 8)
	}
	return int(^crc % IndexShards)
}

// shardBase returns the common start of shard n's keys: "<prefix>:{sNN}:".
func (s *Store) shardBase(n int) string { return s.bases[n] }

// setBases computes every shard's key base and index base once, for the prefix.
func (s *Store) setBases() {
	for n := range s.bases {
		s.bases[n] = fmt.Sprintf("%s:{s%02x}:", s.prefix, n)
		s.ixBases[n] = s.bases[n] + "ix"
	}
}

// SignatureKey returns the key of signature id's record hash.
func (s *Store) SignatureKey(id string) string { return s.bases[shard(id)] + id }

// KwargsKey returns the key of signature id's kwargs hash; it shares the record's slot.
func (s *Store) KwargsKey(id string) string { return s.bases[shard(id)] + id + ":kw" }

// indexBase returns the start of shard n's index keys ("<prefix>:{sNN}:ix"). Scripts
// that keep indexes take it as their last key, so Redis Cluster routes them to the
// shard's slot, and append ":all", ":root", ":s:<status>", ":t:<task>" or ":exp".
func (s *Store) indexBase(n int) string { return s.ixBases[n] }

// withIndex returns keys with the index base of id's shard appended.
func (s *Store) withIndex(id string, keys ...string) []string {
	out := make([]string, len(keys)+1)
	copy(out, keys)
	out[len(keys)] = s.ixBases[shard(id)]
	return out
}

// recordKeys returns the keys of the scripts that change one record: its record hash,
// its kwargs hash and its shard's index base.
func (s *Store) recordKeys(id string) []string {
	n := shard(id)
	sig := s.bases[n] + id
	return []string{sig, sig + ":kw", s.ixBases[n]}
}

// RegistryKey returns the key of the task registry hash.
func (s *Store) RegistryKey() string { return s.prefix + ":{registry}" }

// keyPattern returns a SCAN pattern that matches every key of this store.
func (s *Store) keyPattern() string { return s.prefix + ":*" }

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
