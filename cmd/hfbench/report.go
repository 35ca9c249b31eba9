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
	sideTrigger:  "ref trigger: 1-task wf → RunNoWait → 1-task wf",
	sideTrigFail: "ref trigger+onfail: same + on-failure step",
	sideTrigSkip: "ref trigger+skip: same + on-failure + skipped follow-up",
}

func (r *results) hopRatio() float64 {
	if r.hop == nil || median(r.hop.hops[sideNative]) <= 0 {
		return 0
	}
	return float64(median(r.hop.hops[sideOurs])) / float64(median(r.hop.hops[sideNative]))
}

func (r *results) throughputRatio() float64 {
	if r.tp == nil || r.tp.sides[sideNative].rate() == 0 {
		return 0
	}
	return r.tp.sides[sideOurs].rate() / r.tp.sides[sideNative].rate()
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
		fmt.Fprintf(w, "hop_ratio (ours / native: median, p90)\t\t\t%.2f\t%.2f\n", r.hopRatio(),
			float64(quantile(h.hops[sideOurs], 0.9))/float64(max(1, quantile(h.hops[sideNative], 0.9))))
		for _, s := range r.sides {
			if n := h.failures[s]; n > 0 {
				fmt.Fprintf(w, "FAILED %s hop runs (child not started within %v; excluded)\t%d\n", s, r.cfg.runTimeout, n)
			}
		}
		fmt.Fprintln(w)
	}
	if tp := r.tp; tp != nil {
		fmt.Fprintf(w, "throughput: %d runs per side, %d in flight, %d slots\truns/s\twall\tfailed\n", tp.runs, r.cfg.concurrency, r.cfg.slots)
		for _, s := range r.sides {
			ts := tp.sides[s]
			fmt.Fprintf(w, "%s\t%.1f\t%v\t%d\n", sideLabels[s], ts.rate(), ts.wall.Round(time.Millisecond), ts.failures)
		}
		fmt.Fprintf(w, "throughput_ratio (ours / native)\t%.2f\n", r.throughputRatio())
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
	fmt.Fprintf(w, "record hash hf:{sig:ID} (%s; %s)\t%d\n", rr.sigEncoding, strings.Join(rr.fields, " "), rr.sigBytes)
	fmt.Fprintf(w, "kwargs hash hf:{sig:ID}:kw (%s)\t%d\n", rr.kwEncoding, rr.kwBytes)
	fmt.Fprintf(w, "sum (saved, pending)\t%d\n", rr.sigBytes+rr.kwBytes)
	fmt.Fprintf(w, "record hash once done (result + 1 marker)\t%d\n", rr.doneBytes)
	w.Flush()
	fmt.Fprintln(out)
	if len(r.swarm) > 0 {
		printSwarm(out, r.swarm, r.cfg.swarmConc)
	}
	fmt.Fprintf(out, "hop_ratio=%.2f throughput_ratio=%.2f save_rtt=%d start_rtt=%d finish_rtt=%d sig_bytes=%d %s\n",
		r.hopRatio(), r.throughputRatio(), rr.maxSave(), rr.start, rr.finish, rr.sigBytes+rr.kwBytes, swarmFields(r.swarm))
}
