// Package inspectui is the web inspector that `hatchetflow ui` serves: a page that
// lists stored signatures, chains and swarms and draws the live tree of the selected
// one (callbacks, chain steps, swarm items with their progress), each root with the
// rolled-up status of its whole flow, and cancel, suspend, resume and retry buttons
// when actions are allowed.
//
// [New] builds a [Server], an http.Handler over a [Backend] (a *hatchetflow.Client
// wrapped in [ClientBackend] in the command, a fake in tests). Its endpoints:
//
//	GET  /                          the page (static/index.html)
//	GET  /static/...                the page's scripts and styles (embedded)
//	GET  /api/config                {"actions": bool, "csrf": token, "pollMillis": n, "runURL": prefix}
//	GET  /api/list?status=&task=&roots=1&since=&until=&cursor=&limit=
//	                                one [Page]: a hatchetflow.ListPage whose roots carry
//	                                their flow's rolled-up status (Flow, a [FlowSummary]),
//	                                every entry its Input and Result previews
//	GET  /api/list/events?...       server-sent events: "list" with the first page, again on change
//	GET  /api/tasks                 []hatchetflow.TaskInfo
//	GET  /api/tree/{id}             hatchetflow.Node
//	GET  /api/tree/{id}/events      server-sent events: "tree" with the tree, again on change
//	GET  /api/flow/{id}             [FlowSummary] of the flow rooted at id
//	GET  /api/record/{id}           [Record]: the input its run got, kwargs, result, run id
//	GET  /api/logs/{id}             [RunLogs]: the Hatchet logs of the run stored on record id
//	                                (503 without a Hatchet client, 502 when the engine fails)
//	POST /api/tree/{id}/cancel      body {"silent": bool, "reason": string}, both optional
//	POST /api/tree/{id}/suspend     body {"cancelRunning": bool}, optional
//	POST /api/tree/{id}/resume
//	POST /api/tree/{id}/retry       body {"kwargs": {...}}, optional; answers {"runId"}
//
// Errors are JSON {"error": "..."} with a status code: 400 for malformed queries, ids
// and bodies and for kwargs that do not fit the task, 401 without the credentials of
// Options.Auth, 403 for refused requests, 404 for unknown ids, 409 for a refused
// transition or retry, 500 otherwise. The event streams
// poll the backend every Options.PollInterval and send an event only when the JSON
// changed (the list's flows are read again on every poll: one tree read per listed
// root); a backend error while streaming is sent as a "problem" event
// ({"error","status"}) and polling goes on.
//
// Every request must name an allowed host (Options.AllowedHosts; by default the
// loopback names), which defeats DNS rebinding, and, when Options.Auth is set, carry
// its credentials (a bearer token, or HTTP basic auth), compared in constant time. POSTs are refused unless
// Options.AllowActions, and must carry the X-Hatchetflow-CSRF header with the
// server's random token (read from /api/config, which other origins cannot read),
// must not come from another origin (Origin header) and, when the browser sends
// Sec-Fetch-Site, must be same-origin.
package inspectui
