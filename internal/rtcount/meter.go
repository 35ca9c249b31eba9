package rtcount

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Meter takes the readings an overhead benchmark reports per operation: this
// process's CPU time, the Redis server's CPU time and its script commands' calls and
// time (INFO cpu and commandstats, so a server of the benchmark's own gives clean
// figures), and the round trips a [Counter] saw. Start it right before the timed
// loop and report right after it.
type Meter struct {
	admin       *redis.Client
	rt          *Counter
	goCPU       time.Duration
	srvCPU      float64
	calls, usec int64
	rtt         int64
}

// StartMeter reads the starting values through admin (a client without the round
// trip hook) and rt, and resets b's timer.
func StartMeter(b *testing.B, admin *redis.Client, rt *Counter) *Meter {
	b.Helper()
	m := &Meter{admin: admin, rt: rt}
	m.srvCPU, m.calls, m.usec = serverReadings(b, admin)
	m.rtt = rt.N()
	m.goCPU = processCPU()
	b.ResetTimer()
	return m
}

// Report stops b's timer and reports, per operation: go-µs/op, redis-µs/op,
// script-µs/op, scripts/op and rtt/op.
func (m *Meter) Report(b *testing.B) {
	b.Helper()
	b.StopTimer()
	goCPU := processCPU() - m.goCPU
	srv, calls, usec := serverReadings(b, m.admin)
	n := float64(b.N)
	b.ReportMetric(float64(goCPU.Microseconds())/n, "go-µs/op")
	b.ReportMetric((srv-m.srvCPU)*1e6/n, "redis-µs/op")
	b.ReportMetric(float64(usec-m.usec)/n, "script-µs/op")
	b.ReportMetric(float64(calls-m.calls)/n, "scripts/op")
	b.ReportMetric(float64(m.rt.N()-m.rtt)/n, "rtt/op")
}

// processCPU is this process's CPU time so far, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverReadings returns the Redis server's CPU seconds and its script commands'
// calls and microseconds.
func serverReadings(b *testing.B, admin *redis.Client) (cpu float64, calls, usec int64) {
	b.Helper()
	info, err := admin.Info(context.Background(), "cpu", "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	sn := bufio.NewScanner(strings.NewReader(info))
	for sn.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sn.Text()), ":")
		if !ok {
			continue
		}
		switch k {
		case "used_cpu_user", "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			cpu += f
		case "cmdstat_evalsha", "cmdstat_eval":
			for _, kv := range strings.Split(v, ",") {
				name, val, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseInt(val, 10, 64)
				switch name {
				case "calls":
					calls += n
				case "usec":
					usec += n
				}
			}
		}
	}
	return cpu, calls, usec
}

// BenchRedis gives an overhead benchmark its Redis on REDIS_URL (it is skipped
// without one): rdb, whose round trips rt counts; admin, uncounted, for INFO; and a key
// prefix of its own, whose keys are deleted, and both clients closed, when it ends.
func BenchRedis(b *testing.B) (rdb *redis.Client, rt *Counter, admin *redis.Client, prefix string) {
	b.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		b.Skip("needs REDIS_URL")
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	rdb, admin, rt = redis.NewClient(o), redis.NewClient(o), &Counter{}
	rdb.AddHook(rt)
	prefix = fmt.Sprintf("hfprof-%d", time.Now().UnixNano())
	ctx := context.Background()
	b.Cleanup(func() {
		iter := admin.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			admin.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
		_ = admin.Close()
	})
	return rdb, rt, admin, prefix
}
