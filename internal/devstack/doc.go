// Package devstack starts and stops hatchetflow's local development and test stack: the
// engine binary (hfengine, built from tools/hatchet and cached per machine), PostgreSQL
// and Redis (a shared server when one answers, else an own throwaway one), a RabbitMQ
// vhost of the state directory's own when the engine's queue is RabbitMQ, and the
// .state/env file the SDK reads. `down` stops only what `up` started. The command is
// internal/cmd/hfstack, run through scripts/stack; docs/stack.md describes the steps
// and the HATCHETFLOW_* knobs.
//
// Everything binds to and talks to 127.0.0.1. Started services run detached in their
// own session and are stopped with SIGTERM and a wait, never SIGKILL.
package devstack
