// Package dsl builds task signatures: immutable blueprints of a task run with bound
// keyword arguments and success, error and finally callbacks.
//
// # Signatures
//
// A signature names a task and carries bound kwargs and callbacks, which are signatures
// themselves. [Sign] starts one from a task name or a typed task handle:
//
//	sig := dsl.Sign("process-order").With(dsl.KW{"priority": "high"}).
//		OnSuccess(dsl.Sign("send-success-email"), dsl.Sign("log-completion")).
//		OnError(dsl.Sign("log-error").With(dsl.KW{"additional_field1": 12345}))
//
// # Immutability
//
// A [Builder] is a value. Every method returns a new builder and never changes the one
// it was called on, so a partly built signature can be reused in several trees without
// sharing state. Kwargs are deep-copied when bound.
//
// # Terminal calls
//
// Only [Builder.Save] and [Builder.Run] do I/O, through a [Backend] (the hatchetflow
// client implements it). Save persists the whole tree (the signature and its nested
// callbacks) and returns the saved signature; Run saves and dispatches it with an input
// message.
//
// # Callbacks
//
// OnSuccess, OnError and Finally take builders, references to signatures saved
// earlier ([Ref]), or saved signatures ([Saved]). Repeated calls append. Success
// callbacks run after the task succeeded, error callbacks once after it failed for
// good or was cancelled, and finally callbacks once after it ended whatever the end
// (cleanup, compensation), with the outcome injected (inject.Outcome). Chains and
// swarms take the same three kinds.
//
// # Waiting for an event
//
// [Builder.After] makes a signature wait for an outside event before its task runs:
//
//	sig := dsl.Sign("ship").After(dsl.Event("order-approved", orderID).Timeout(6 * time.Hour))
//
// The event, named by [Event] (a name and a key), is signalled with the hatchetflow
// client's Signal; its payload reaches the task. With no signal within the timeout
// ([DefaultEventTimeout] by default), the signature fails through its error path.
// [ChainBuilder.After] makes a chain's first step wait. [EventWait] is a value like
// the builders.
//
// # Containers
//
// [Chain] runs steps one after the other, each receiving the previous step's return
// value. [Swarm] runs items side by side, at most [SwarmBuilder.MaxConcurrency] at a
// time, and passes their results, in item order, to its success callbacks. Both are
// specs: a callback, a chain step, a swarm item, or a run of their own.
package dsl
