// Package redisstore keeps hatchetflow's signatures, task registry and dispatch markers
// in Redis. Every Redis key and Lua script of hatchetflow is defined here.
//
// # Keys
//
// With the default prefix "hf", a signature with id ID lives in shard NN (CRC-32 of the
// id mod [IndexShards], two hex digits) and owns keys that share the hash tag {sNN}
// with that shard's indexes, so Redis Cluster keeps them in one slot and one Lua script
// changes the record and its index entries together:
//
//	hf:{sNN}:ID          hash: the signature record (task, status, callbacks, result, markers)
//	hf:{sNN}:ID:kw       hash: bound kwargs, one field per top-level key, values JSON-encoded
//	hf:{sNN}:ID:it       hash: a swarm's items
//	hf:{sNN}:ix:...      sorted sets: the shard's all/root/status/task/expiry indexes (index.go)
//	hf:{registry}        hash: task name -> JSON task definition (schema, return field, retries)
//	hf:{lease}:NAME      string: the holder of a lease (the reconciler's), with a TTL
//	hf:{settle}:engine   sorted set: signatures whose runs no hatchetflow step settles,
//	                     scored by dispatch time (watch.go)
//	hf:ack:{TAG}         string: the barrier each write of [WithReplicaAcks] sets before WAIT,
//	                     one per hash tag it wrote to, expiring a minute after its last use
//
// Each callback is one field of its parent's record ("o:<id>", "e:<id>" or, for a
// finally callback, "f:<id>"; a chain's error and finally callbacks are carried by
// each of its steps as "E:<id>" and "F:<id>") and each
// dispatch marker another ("d:<outcome>:<id>"), so a typical record keeps every value
// under 64 bytes and Redis stores it as a compact listpack (about 500 bytes with its
// kwargs).
//
// Signature keys get the active TTL (default 24 h) in the same script that creates them;
// when a signature ends, it and the callbacks of the branch that will never run get the
// done TTL (default 3 h). The registry is written by workers at start and has no TTL:
// it describes code, not runs.
//
// # Transitions
//
// Status changes are compare-and-set Lua scripts, each beside the method that runs it
// with a header naming its KEYS, ARGV and replies: pending→active records the engine's run id;
// active→done stores the result; active or pending→failed. Repeating a transition from
// the same run is a no-op that says so ([Transition.Repeated]); any other transition is
// refused with a [*TransitionError].
//
// # Round trips
//
// Saving a tree is one pipelined round trip whatever its size (one script per
// signature, so it works on Redis Cluster; callbacks are queued
// before their parent); starting a run is one script; finishing is one script plus one
// pipeline that records dispatch markers and shortens the dead branch's TTL. A listing
// ([Store.List]) is two: the shards' list scripts in one pipeline, then the page's records.
//
// # Replicas
//
// Redis replicates asynchronously: by default a write returns once the master applied
// it. [WithReplicaAcks] (default off) makes every write wait, in the same round trip,
// until the given number of replicas hold it, or fail with a [*ReplicationError]
// matching [ErrReplication]; reads never wait (replicas.go).
package redisstore
