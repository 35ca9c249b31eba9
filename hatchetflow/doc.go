// Package hatchetflow gives Go workers of the Hatchet task engine declarative success,
// error and finally callbacks that the engine itself guarantees: MageFlow's signatures,
// for Go.
//
// # Client
//
// [New] takes a Hatchet client and a Redis client (go-redis v9); signatures and the task
// registry live in Redis. The [Client] implements dsl.Backend, so builders from package
// dsl save and run through it:
//
//	flow, err := hatchetflow.New(hatchetClient, redisClient)
//	sig, err := dsl.Sign("process-order").With(dsl.KW{"priority": "high"}).
//		OnSuccess(dsl.Sign("send-success-email"), dsl.Sign("log-completion")).
//		OnError(dsl.Sign("log-error").With(dsl.KW{"additional_field1": 12345})).
//		Save(ctx, flow)
//
// # Tasks
//
// [NewTask] registers a typed function; a handler of the wrong shape does not compile.
// [Client.NewWorker] writes the task registry (name → input schema, return field,
// retries, output schema) to Redis and registers every task as one Hatchet workflow.
// By default the workflow has one task, the main step:
//
//   - main: decodes the input itself (a decode error fails the run at once, naming the
//     field), moves the run's signature pending→active, calls the function with the
//     input and the bound kwargs merged over it (bound kwargs win), and right after it
//     returns marks the signature done and dispatches the success callbacks, retrying
//     through short Redis outages; its output is the function's return value. When the
//     run's last attempt fails, panics or times out, it marks the signature failed and
//     dispatches the error callbacks with the original message before it returns the
//     error to the engine.
//
// A failure no attempt could end (a lost worker, an attempt that hung past its
// timeout) is ended by the reconciler a worker hosts, from the engine's verdict
// ([WithReconcileInterval]). A task registered with [WithOnFailureStep] also has
// Hatchet's on-failure step, which runs once after the last attempt failed (errors,
// panics, timeouts, a lost worker) and dispatches the error callbacks, or finishes the
// success path when its own run had already finished the signature; its last attempt
// then leaves the failure to that step. See docs/design.md, "Engine shape".
//
// Runs without a signature in their metadata (a cron's, an event's, a plain Hatchet
// caller's) are plain Hatchet runs and touch no Redis, unless the task has a standing
// signature ([WithStandingSignature]): each such run then gets a signature saved from it,
// with its callbacks, under an id derived from the run ([StandingSignatureID]).
//
// A run with [RunOptions].StartAfter is a Hatchet schedule: the signature is saved at
// once, the run starts it once the delay has passed, and [Handle.Wait] waits for both;
// [Client.Cancel] before it fires deletes the schedule.
//
// A signature given dsl.Builder.After waits for an outside event before its task runs:
// it is dispatched as a run of the internal durable task [WaitTask], which waits
// durably for the event (a Hatchet event, pushed with [Client.Signal]) or its timeout,
// then runs the task with the signal's payload (inject.Signal), or fails the signature
// through its error path. [Client.Cancel] cancels the wait. See docs/workflows.md,
// "Waiting for an event".
//
// # Workflows of several tasks and durable tasks
//
// [RegisterWorkflow] signs a workflow the application built with the Hatchet SDK (a
// DAG: parents, conditions): hatchetflow adds an end task after its final tasks, which
// ends the signature with their outputs by task name, and its on-failure task, which
// fails it naming the failed task ([inject.TaskError].Step). [NewDurableTask] registers
// a durable task, signed like any task. See docs/workflows.md.
//
// # Flows and retry
//
// A root and everything under it is a flow: [Handle.Flow] and [Client.Flow] give its
// rolled-up [FlowStatus] (a root whose callback chain failed is failed, naming the
// step) and a Wait for the whole tree that returns a [*FlowError] naming the first node
// that failed. [Client.Retry] runs a failed or cancelled signature, or a chain from its
// failed step, again with its stored message, exactly once. See docs/lifecycle.md.
//
// # No silent wrong results
//
// A call that cannot do what was asked returns a typed error: [Client.RunSignature] of a
// signature that is not pending ([*NotPendingError]), a Save whose callback cannot fit
// what it will receive ([*CallbackMismatchError]), [Client.UpdateKwargs] of a started
// signature or past the size limit, [NewTask] after [Client.NewWorker]
// ([ErrRegistrationClosed]) or with an input type no JSON object decodes into
// ([ErrInputNotObject]), and options that contradict each other
// ([*ConflictingOptionError]).
//
// # Exactly once
//
// Each dispatch is recorded per (signature, outcome, callback), so a retried step never
// dispatches twice; and a callback is itself a signature whose pending→active check
// admits one run, so even a duplicate trigger never runs its user code twice.
//
// # Batched dispatch
//
// The callbacks of one outcome, the items a swarm starts together and the items
// [Client.AddItems] starts are triggered with the engine's bulk call, 500 runs a call;
// a run alone is one trigger. A batch the engine refused goes again run by run, and
// one whose answer was lost is first checked against the engine's run list, so no run
// is lost; a run triggered twice that way is refused by its signature before user
// code. Batched dispatch is on when the environment configures a Hatchet client
// (HATCHET_CLIENT_TOKEN is set); a client configured in code passes the same options
// to [WithBulkDispatch], and [WithoutBulkDispatch] turns it off. The bulk call exists
// only on the SDK's deprecated v0 client, which hatchetflow opens a second connection
// for. See docs/design.md, "Batched dispatch".
//
// # Injection
//
// A success callback receives {<return field>: <return value>} with its bound kwargs
// merged over it. The return field is the one typed inject.ReturnValue[T] or tagged
// `hatchetflow:"return_value"`, else "mageflow_results". An error callback receives the
// failed task's message with its own bound kwargs merged over it, and the error details
// in a field typed inject.TaskError (or tagged `hatchetflow:"task_error"`) if it has one.
// A finally callback (dsl's Finally) runs once after any end, done, failed or cancelled
// (a silent cancel too): it receives the same message as an error callback, plus an
// inject.Outcome (status, result or error details) in the field typed inject.Outcome (or
// tagged `hatchetflow:"outcome"`), else "hatchetflow_outcome". Its dispatch is recorded
// under [OutcomeFinally], so it too goes out once.
//
// # Observability
//
// Signature runs, on-failure steps (of tasks that have one) and callback dispatches are
// OpenTelemetry spans, and runs by outcome, dispatch latency, Redis errors and in-step
// retries are metrics, all through the OTel API: [WithTracerProvider] and
// [WithMeterProvider] choose the providers, by default the global ones (no-ops unless
// the application installs some).
// A callback's run span is linked to the dispatch span that triggered it, whose trace
// context travels in the run's metadata under [engine.MetaTraceParent].
//
// # Chains
//
// dsl.Chain(a, b, c) runs steps in order, each with the previous step's return value;
// the chain's own callbacks fire once at the end or on the first failed step (its finally
// callbacks either way).
// [Client.Chain] reads a chain's status and steps. See docs/chains.md.
//
// # Swarms
//
// dsl.Swarm(items...) runs items side by side, at most MaxConcurrency at a time; its
// success callbacks get the results in item order once it is closed and every item
// ended, its error callbacks fire once when StopAfter items failed, its finally callbacks
// once after either end or a cancel. Items record
// their own ends through their steps; the reconciler a worker hosts settles lost
// events against the engine ([WithSwarmWatchInterval]). [Client.Swarm] reads a swarm; [Client.AddItems] and
// [Client.CloseSwarm] feed an open one. See docs/swarms.md.
//
// # Reading state
//
// [Client.Signature] returns a [Signature] and [Client.Chain] a [ChainState], with
// statuses as [Status] values ([StatusDone]...): application code and its tests never
// need package redisstore. Save returns a dsl.Saved that lists the ids of the callbacks
// it saved. Typed task handles run with [Task.Run] and wait with [TaskRun.Wait].
//
// # Engines and harnesses
//
// The contract between the lifecycle and an engine (dispatching one run or a batch,
// finding runs, waiting, cancelling, the step functions of each task) lives in this
// module's internal/engine package: the Hatchet adapter here implements it, and
// package testing/flowtest runs the same step functions in memory. Application code
// needs none of it.
package hatchetflow
