// Package flowtest runs hatchetflow flows in memory, for fast unit tests of code that
// uses hatchetflow, with no Hatchet engine.
//
// # Real wiring, not a recorder
//
// [New] returns a [Harness] whose Client is a real hatchetflow client on miniredis.
// Its dispatcher queues runs in memory and executes them through the very step
// functions hatchetflow registers with Hatchet (the same code, through the module's
// internal engine contract): the main
// step's signature checks, callback dispatch and failure path, the on-failure step of a
// task registered with hatchetflow.WithOnFailureStep, the client's reconciler,
// return-value injection, dispatch markers and TTLs. Retries, non-retryable errors and
// what runs after a run failed for good follow Hatchet's rules: a task with an
// on-failure step runs it once; a task without one (the default) has its signature ended
// by its last attempt, and the harness then runs a pass of the client's reconciler, as
// the reconciler a worker hosts does on the engine.
//
// # Driving runs
//
// Dispatched runs wait in a FIFO queue. [Harness.Drain] runs them (and every callback
// they dispatch) to completion; [Harness.Step] runs one. Waiting on a handle drives the
// queue until that run's main step ended.
//
// # Scheduled runs and the harness clock
//
// A run with hatchetflow.RunOptions.StartAfter is a schedule ([Harness.Scheduled]) until
// the harness clock ([Harness.Now]) reaches it. [Harness.FastForward] moves the clock
// (and ages every Redis TTL) and queues the runs that fall due; when nothing is queued,
// [Harness.Step], and so Drain and waiting on a handle, skips the clock to the next
// schedule.
//
// # Signatures that wait for an event
//
// A signature given dsl.Builder.After runs as a run of hatchetflow's wait task, which
// the harness runs in memory too. With no signal yet it parks: its status is
// [StatusWaiting] and it leaves the queue, so Drain returns while it waits.
// hatchetflow.Client.Signal reaches the harness ([Harness.Signal]) and queues the runs
// waiting for that event and key; [Harness.FastForward] queues those whose timeout
// passed on the harness clock; each then runs again from its start (as a durable task
// replays) and is released or times out. A signal counts for the waits whose runs were
// dispatched before it. Waiting on the handle of a parked signature returns an error
// saying what it waits for instead of blocking.
//
// # Faults
//
// [Harness.Inject] makes a chosen attempt of a task fail ([Fail]), panic ([Panic]) or
// time out ([Timeout]) at the moment its user function would be called, after the
// signature checks, as on the engine. An injected timeout is the attempt's error with the
// engine's text, "Task exceeded timeout of Ns". Attempts count from 0, like Hatchet's
// RetryCount.
//
// # Cancellation
//
// hatchetflow.Client.Cancel works as on the engine, and [Harness.CancelRuns] cancels
// runs as Hatchet does: a queued run never runs; a running run's attempt has its
// context cancelled (ctx.Done closes), ends cancelled at once with no retry or
// on-failure step, and what it returns is dropped. A run cancelled with CancelRuns
// alone (as from Hatchet's dashboard) also cancels the signature it still owns, with
// its error callbacks. To cancel while a user function runs, drive the queue from
// another goroutine.
//
// # Unexpected failures
//
// A run that fails without an injected fault fails the test at cleanup, naming the run
// and its error, unless the test declared it with [Harness.ExpectFailure] (per task) or
// [Harness.AllowFailures]. A cancel's own consequences need no declaration: a
// cancelled run is not a failure, and a run refused because its signature was
// cancelled is not counted. [Harness.ClearFault] and [Harness.ClearFaults] remove
// faults.
//
// # Calling one handler
//
// [NewContext] returns a fake hatchet.Context for calling a handler directly.
//
// # Assertions
//
// [Harness.RequireDispatched], [Harness.RequireNotDispatched],
// [Harness.RequireReceived] and [Harness.RequireStatus] take a testing.TB and print a
// readable diff. [Harness.FastForward] ages every TTL and moves the harness clock.
//
// # Workflows of several tasks and durable tasks
//
// A workflow registered with hatchetflow.RegisterWorkflow runs in memory as on the
// engine: each task after its parents (ParentOutput reads their outputs), with its
// retries, then hatchetflow's end step (success callbacks with the final tasks'
// outputs), or, once a task failed for good, hatchetflow's on-failure step (error
// callbacks naming the task). Build the workflow with the harness's offline client,
// [Harness.Hatchet], as the application builds it. A task with a condition (skip or
// wait) fails the run: only the engine evaluates conditions.
//
// A durable task (hatchetflow.NewDurableTask) gets the harness's [Context] as its
// durable context: SleepFor and SleepUntil return at once, Memo calls its function,
// Now is the wall clock, and its own event waits (WaitForEvent, WaitFor) return
// [ErrEngineOnly]; hatchetflow's waits (above) do run.
//
// # What it cannot simulate
//
// Process crashes and worker loss (a step either returns or is timed out), the
// engine's scheduling, concurrency limits, rate limits and priorities, conditions and
// a durable task's own event waits, durable tasks inside a workflow of several tasks, and hatchet.Context
// methods other than these: the context.Context methods, GetContext, SetContext,
// AdditionalMetadata, WorkflowRunId, StepRunId, StepName, ActionId, RetryCount,
// StepRunErrors, TenantId, WorkerId, Log, WorkflowInput, StepOutput, ParentOutput and
// WasSkipped (always false), the durable methods above, plus RefreshTimeout,
// ReleaseSlot, Priority, PutStream and StreamEvent, which do nothing or return a
// constant. Calling any other (SpawnWorkflow...) panics with a nil-pointer error: the
// attempt fails like any panic, and the harness's log line for it carries the stack,
// which names the method.
package flowtest
