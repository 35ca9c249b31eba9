package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuSample is CPU time used so far (Linux /proc; zero elsewhere): by the Hatchet
// engine (the processes isEngineComm names), by PostgreSQL (all its processes), by
// this process, and by the whole machine (busy and total, all cores).
type cpuSample struct {
	engine, postgres, self time.Duration
	busy, total            time.Duration
}

// clkTck is USER_HZ, 100 on every Linux platform Go supports.
const clkTck = 100

func ticks(n uint64) time.Duration { return time.Duration(n) * time.Second / clkTck }

func sampleCPU() cpuSample {
	var s cpuSample
	pids, _ := filepath.Glob("/proc/[0-9]*/stat")
	self := strconv.Itoa(os.Getpid())
	for _, p := range pids {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		line := string(b)
		open, close := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
		if open < 0 || close < open {
			continue
		}
		comm := line[open+1 : close]
		f := strings.Fields(line[close+1:])
		if len(f) < 15 { // fields 14–17 of stat: utime, stime, cutime, cstime (f[11]..f[14] here)
			continue
		}
		// utime, stime, cutime, cstime: a PostgreSQL backend that exits moves its time
		// into the postmaster's cutime/cstime, so the sum over the processes stays
		// monotonic.
		var sum uint64
		for _, i := range []int{11, 12, 13, 14} {
			n, _ := strconv.ParseUint(f[i], 10, 64)
			sum += n
		}
		d := ticks(sum)
		switch {
		case isEngineComm(comm):
			s.engine += d
		case comm == "postgres" || strings.HasPrefix(comm, "postgres:"):
			s.postgres += d
		}
		if filepath.Base(filepath.Dir(p)) == self {
			s.self = d
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
		for i, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			if i >= 8 { // guest times are already counted in user
				break
			}
			s.total += ticks(n)
			if i != 3 && i != 4 { // idle, iowait
				s.busy += ticks(n)
			}
		}
	}
	return s
}

// isEngineComm reports whether a process name (/proc/PID/stat's comm, cut to 15
// bytes) is a Hatchet engine: the stack's hfengine (engine and REST API in one
// process) or Hatchet's own hatchet-engine binary.
func isEngineComm(comm string) bool {
	return comm == "hfengine" || strings.HasPrefix(comm, "hatchet-engine")
}

func (s cpuSample) sub(o cpuSample) cpuSample {
	return cpuSample{engine: s.engine - o.engine, postgres: s.postgres - o.postgres, self: s.self - o.self,
		busy: s.busy - o.busy, total: s.total - o.total}
}

func (s cpuSample) add(o cpuSample) cpuSample {
	return cpuSample{engine: s.engine + o.engine, postgres: s.postgres + o.postgres, self: s.self + o.self,
		busy: s.busy + o.busy, total: s.total + o.total}
}
