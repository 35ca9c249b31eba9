package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

type results struct {
	cfg     config
	sides   []string
	redis   *redisResult
	hop     *hopResult
	tp      *tpResult
	e2eRTT  int64
	swarm   []swarmFigures
	elapsed time.Duration

	chain          *chainResult
	fanout, depth  []costPoint
	dbStart, dbEnd int64
	batch          []batchPoint
}

// spread returns the median, min and max of xs.
func spread(xs []float64) (med, lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}

func medianOf(xs []float64) float64 { m, _, _ := spread(xs); return m }

func fmtSpread(xs []float64) string {
	m, lo, hi := spread(xs)
	return fmt.Sprintf("%.2f [%.2f–%.2f]", m, lo, hi)
}

func fmtRatios(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(parts, " ")
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func dbGrowth(before, after int64) string {
	if before == 0 || after == 0 {
		return "unknown (no DATABASE_URL or .state/run/engine.db)"
	}
	return fmt.Sprintf("%s → %s (+%s)", mib(before), mib(after), mib(after-before))
}

// quantile returns the q-quantile of ds by linear interpolation between closest ranks.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(pos)
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	frac := pos - float64(lo)
	return s[lo] + time.Duration(frac*float64(s[lo+1]-s[lo]))
}

func median(ds []time.Duration) time.Duration { return quantile(ds, 0.5) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

var sideLabels = map[string]string{
	sideOurs:     "hatchetflow: signature → success callback (fast path)",
	sideNative:   "native: two-task DAG, child WithParents",
	sideTrigger:  "lean trigger: 1-task wf → RunNoWait → 1-task wf",
	sideFair:     "fair: 1-task wf + on-failure → RunNoWait → same",
	sideTrigSkip: "ref trigger+skip: same + on-failure + skipped follow-up",
}

// hopRatio and the others are medians of the per-pair ratios (ours / the other side).
func (r *results) hopRatio() float64 {
	if r.hop == nil {
		return 0
	}
	return medianOf(hopRatios(r.hop.pairs, sideOurs, sideNative))
}

func (r *results) fairHopRatio() float64 {
	if r.hop == nil {
		return 0
	}
	return medianOf(hopRatios(r.hop.pairs, sideOurs, sideFair))
}

func (r *results) throughputRatio() float64 {
	if r.tp == nil {
		return 0
	}
	return medianOf(tpRatios(r.tp.pairs, sideOurs, sideNative))
}

func (r *results) fairThroughputRatio() float64 {
	if r.tp == nil {
		return 0
	}
	return medianOf(tpRatios(r.tp.pairs, sideOurs, sideFair))
}

func (r *results) leanHopRatio() float64 {
	if r.hop == nil {
		return 0
	}
	return medianOf(hopRatios(r.hop.pairs, sideOurs, sideTrigger))
}

func (r *results) leanThroughputRatio() float64 {
	if r.tp == nil {
		return 0
	}
	return medianOf(tpRatios(r.tp.pairs, sideOurs, sideTrigger))
}

func (r *results) chainHopRatio() float64 {
	if r.chain == nil {
		return 0
	}
	return medianOf(r.chain.ratios())
}

// fanout1000 is the fan-out curve's point at 1,000 callbacks (zero if it did not run).
func (r *results) fanout1000() costPoint {
	for _, p := range r.fanout {
		if p.size == 1000 {
			return p
		}
	}
	return costPoint{}
}

func (r *results) print(out io.Writer) {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "hfbench: GOMAXPROCS=%d NumCPU=%d, %s, total %v\n\n", runtime.GOMAXPROCS(0), runtime.NumCPU(),
		runtime.Version(), r.elapsed.Round(time.Second))
	if h := r.hop; h != nil {
		fmt.Fprintf(w, "callback hop: child fn start − parent fn end, ms\tn\tmin\tmedian\tp90\tp99\tmax\n")
		row := func(name string, ds []time.Duration) {
			if len(ds) == 0 {
				return
			}
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", name, len(ds), ms(quantile(ds, 0)), ms(median(ds)),
				ms(quantile(ds, 0.9)), ms(quantile(ds, 0.99)), ms(quantile(ds, 1)))
		}
		for _, s := range r.sides {
			row(sideLabels[s], h.hops[s])
			if s == sideOurs {
				row("  ours: parent fn end → trigger call (Finish script)", h.toDispatch)
				row("  ours: trigger call (RunNoWait)", h.dispatchCall)
				row("  ours: trigger return → callback fn start", h.afterDispatch)
			}
		}
		fmt.Fprintf(w, "hop ratio of all runs pooled (ours / native: median, p90)\t\t\t%.2f\t%.2f\n",
			float64(median(h.hops[sideOurs]))/float64(max(1, median(h.hops[sideNative]))),
			float64(quantile(h.hops[sideOurs], 0.9))/float64(max(1, quantile(h.hops[sideNative], 0.9))))
		fmt.Fprintf(w, "hop_ratio: ours / native, median of %d per-pair ratios [min–max]\t%s\n", len(h.pairs),
			fmtSpread(hopRatios(h.pairs, sideOurs, sideNative)))
		fmt.Fprintf(w, "  per pair\t%s\n", fmtRatios(hopRatios(h.pairs, sideOurs, sideNative)))
		fmt.Fprintf(w, "fair_hop_ratio: ours / fair, median of per-pair ratios [min–max]\t%s\n",
			fmtSpread(hopRatios(h.pairs, sideOurs, sideFair)))
		fmt.Fprintf(w, "  per pair\t%s\n", fmtRatios(hopRatios(h.pairs, sideOurs, sideFair)))
		fmt.Fprintf(w, "lean_hop_ratio: ours / lean trigger, median of per-pair ratios [min–max]\t%s\n",
			fmtSpread(hopRatios(h.pairs, sideOurs, sideTrigger)))
		fmt.Fprintf(w, "  per pair\t%s\n", fmtRatios(hopRatios(h.pairs, sideOurs, sideTrigger)))
		fmt.Fprintf(w, "database size during the hop phase\t%s\n", dbGrowth(h.dbBefore, h.dbAfter))
		for _, s := range r.sides {
			if n := h.failures[s]; n > 0 {
				fmt.Fprintf(w, "FAILED %s hop runs (child not started within %v; excluded)\t%d\n", s, r.cfg.runTimeout, n)
			}
		}
		fmt.Fprintln(w)
	}
	if tp := r.tp; tp != nil {
		fmt.Fprintf(w, "throughput: %d ABBA pairs, rounds of %d runs, %d in flight, %d slots\truns/s\twall\tfailed\n",
			len(tp.pairs), tp.roundRuns, r.cfg.concurrency, r.cfg.slots)
		for _, s := range r.sides {
			ts := tp.sides[s]
			fmt.Fprintf(w, "%s\t%.1f\t%v\t%d\n", sideLabels[s], ts.rate(), ts.wall.Round(time.Millisecond), ts.failures)
		}
		fmt.Fprintf(w, "throughput_ratio: ours / native, median of %d per-pair ratios [min–max]\t%s\n", len(tp.pairs),
			fmtSpread(tpRatios(tp.pairs, sideOurs, sideNative)))
		fmt.Fprintf(w, "  per pair\t%s\n", fmtRatios(tpRatios(tp.pairs, sideOurs, sideNative)))
		fmt.Fprintf(w, "fair_throughput_ratio: ours / fair, median of per-pair ratios [min–max]\t%s\n",
			fmtSpread(tpRatios(tp.pairs, sideOurs, sideFair)))
		fmt.Fprintf(w, "  per pair\t%s\n", fmtRatios(tpRatios(tp.pairs, sideOurs, sideFair)))
		fmt.Fprintf(w, "lean_throughput_ratio: ours / lean trigger, median of per-pair ratios [min–max]\t%s\n",
			fmtSpread(tpRatios(tp.pairs, sideOurs, sideTrigger)))
		fmt.Fprintf(w, "  per pair\t%s\n", fmtRatios(tpRatios(tp.pairs, sideOurs, sideTrigger)))
		fmt.Fprintf(w, "database size during the throughput phase\t%s\n", dbGrowth(tp.dbBefore, tp.dbAfter))
		per := len(r.sides) * 2
		for i := 0; i < len(tp.rounds); i += per {
			label := ""
			if i == 0 {
				label = "rounds, runs/s (ABBA order)"
			}
			fmt.Fprintf(w, "%s\t%s\n", label, strings.Join(tp.rounds[i:min(i+per, len(tp.rounds))], "; "))
		}
		fmt.Fprintf(w, "under load, ms (median / p90)\ttrigger→parent fn\thop\ttrigger→child fn\n")
		for _, s := range r.sides {
			ts := tp.sides[s]
			fmt.Fprintf(w, "%s\t%s / %s\t%s / %s\t%s / %s\n", s,
				ms(median(ts.toParent)), ms(quantile(ts.toParent, 0.9)),
				ms(median(ts.hop)), ms(quantile(ts.hop, 0.9)),
				ms(median(ts.total)), ms(quantile(ts.total, 0.9)))
		}
		if tp.sides[sideOurs].cpu.total > 0 {
			fmt.Fprintf(w, "CPU ms per run (machine-wide: other users of the engine count too)\tengine\tpostgres\thfbench\tmachine busy\n")
			for _, s := range r.sides {
				c, n := tp.sides[s].cpu, time.Duration(tp.sides[s].runs)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.0f%%\n", s, ms(c.engine/n), ms(c.postgres/n), ms(c.self/n),
					100*float64(c.busy)/float64(max(1, c.total)))
			}
		}
		if r.e2eRTT > 0 {
			n := tp.sides[sideOurs].runs
			fmt.Fprintf(w, "redis round trips per hatchetflow run, end to end (save, 2 starts, 2 finishes)\t%.2f\n",
				float64(r.e2eRTT)/float64(n))
		}
		fmt.Fprintln(w)
	}
	if c := r.chain; c != nil {
		fmt.Fprintf(w, "chain hop: step i+1 fn start − step i fn end, %d steps, ms\tn\tmin\tmedian\tp90\tp99\tmax\n", c.steps)
		for _, s := range []string{sideOurs, sideNative} {
			ds := c.hops[s]
			label := map[string]string{sideOurs: "hatchetflow: dsl.Chain of signatures", sideNative: "native: DAG, each task a parent of the next"}[s]
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", label, len(ds), ms(quantile(ds, 0)), ms(median(ds)),
				ms(quantile(ds, 0.9)), ms(quantile(ds, 0.99)), ms(quantile(ds, 1)))
		}
		for _, row := range []struct {
			name string
			ds   []time.Duration
		}{{"  ours: step fn end → trigger call (Finish script + chain bookkeeping)", c.split.toDispatch},
			{"  ours: trigger call (RunNoWait)", c.split.call}, {"  ours: trigger return → next step fn start", c.split.after}} {
			if len(row.ds) > 0 {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", row.name, len(row.ds), ms(quantile(row.ds, 0)), ms(median(row.ds)),
					ms(quantile(row.ds, 0.9)), ms(quantile(row.ds, 0.99)), ms(quantile(row.ds, 1)))
			}
		}
		fmt.Fprintf(w, "chain_hop_ratio: ours / native, median of %d per-pair ratios [min–max]\t%s\n", len(c.pairs), fmtSpread(c.ratios()))
		fmt.Fprintf(w, "  per pair\t%s\n", fmtRatios(c.ratios()))
		fmt.Fprintf(w, "redis round trips of one chain: Save / whole run (Save included) / per step (run − Save) / engine calls\t%d / %d / %.2f / %d\n",
			c.saveRTT, c.runRTT, c.stepRTT(), c.calls)
		if c.failures > 0 {
			fmt.Fprintf(w, "FAILED chain runs (excluded)\t%d\n", c.failures)
		}
		fmt.Fprintln(w)
	}
	for _, curve := range []struct {
		name string
		pts  []costPoint
	}{{"fan-out: success callbacks of one task", r.fanout}, {"depth: nested success callbacks (a line)", r.depth}} {
		if len(curve.pts) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s\tSave rtt\tSave bytes\troot end → last start, ms\tengine calls (a batch is one)\tredis rtt of the run\n", curve.name)
		for _, p := range curve.pts {
			fmt.Fprintf(w, "%d\t%d\t%d\t%s\t%d\t%d\n", p.size, p.saveRTT, p.saveBytes, ms(p.lastStart), p.calls, p.runRTT)
		}
		fmt.Fprintln(w)
	}
	if len(r.batch) > 0 {
		fmt.Fprintf(w, "batch reference: N runs of a 1-task + on-failure workflow, trigger start → last fn start, ms\tN RunNoWait\tcalls\tBulkTriggerWorkflow\tcalls\n")
		for _, p := range r.batch {
			fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%d\n", p.size, ms(p.perRun), p.perRunCalls, ms(p.bulk), p.bulkCalls)
		}
		fmt.Fprintln(w)
	}
	if r.dbEnd > 0 {
		fmt.Fprintf(w, "database size, whole engine phase (hop start → end)\t%s\n\n", dbGrowth(r.dbStart, r.dbEnd))
	}
	rr := r.redis
	fmt.Fprintf(w, "redis round trips (steady state, scripts loaded)\tcallbacks\tround trips\n")
	for _, n := range saveSizes {
		fmt.Fprintf(w, "Save, worker client (tasks registered locally)\t%d\t%d\n", n, rr.save[n])
	}
	for _, n := range saveSizes {
		fmt.Fprintf(w, "Save, producer client, registry cached (first Save)\t%d\t%d (%d)\n", n, rr.producerWarm[n], rr.producerCold[n])
	}
	fmt.Fprintf(w, "Start (pending→active)\t\t%d\n", rr.start)
	fmt.Fprintf(w, "Finish + MarkDispatched (after the user fn returns)\t1+1\t%d\n", rr.finish)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "redis memory: MEMORY USAGE, 3 kwargs, 2 callbacks, default prefix\tbytes\n")
	fmt.Fprintf(w, "record hash hf:{sNN}:ID (%s; %s)\t%d\n", rr.sigEncoding, strings.Join(rr.fields, " "), rr.sigBytes)
	fmt.Fprintf(w, "kwargs hash hf:{sNN}:ID:kw (%s)\t%d\n", rr.kwEncoding, rr.kwBytes)
	fmt.Fprintf(w, "sum (saved, pending)\t%d\n", rr.sigBytes+rr.kwBytes)
	fmt.Fprintf(w, "record hash once done (result + 1 marker)\t%d\n", rr.doneBytes)
	w.Flush()
	fmt.Fprintln(out)
	if len(r.swarm) > 0 {
		printSwarm(out, r.swarm, r.cfg.swarmConc)
	}
	fan := r.fanout1000()
	line := fmt.Sprintf("hop_ratio=%.2f throughput_ratio=%.2f save_rtt=%d start_rtt=%d finish_rtt=%d sig_bytes=%d "+
		"fair_throughput_ratio=%.2f fair_hop_ratio=%.2f lean_hop_ratio=%.2f lean_throughput_ratio=%.2f "+
		"fanout1000_ms=%d fanout1000_calls=%d chain_hop_ratio=%.2f chain_step_rtt=%.0f swarm2000_items_per_s=%.1f %s",
		r.hopRatio(), r.throughputRatio(), rr.maxSave(), rr.start, rr.finish, rr.sigBytes+rr.kwBytes,
		r.fairThroughputRatio(), r.fairHopRatio(), r.leanHopRatio(), r.leanThroughputRatio(),
		fan.lastStart.Milliseconds(), fan.calls, r.chainHopRatio(), r.chain.stepRTT(), swarmItemsPerSecond(r.swarm, 2000),
		swarmFields(r.swarm))
	fmt.Fprintln(out, strings.TrimSpace(line))
}
