package hatchetflow_test

import (
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/hatchetflow"
)

// TestWithReplicaAcksRefusesInvalidValues: New refuses negative replicas, a timeout
// <= 0 with replicas > 0 and a timeout not below the Redis client's ReadTimeout with an
// *InvalidOptionError matching ErrInvalidOption, and accepts off (0) and valid values.
func TestWithReplicaAcksRefusesInvalidValues(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), ReadTimeout: 3 * time.Second})
	defer rdb.Close()
	for _, tc := range []struct {
		replicas int
		timeout  time.Duration
		ok       bool
	}{
		{0, 0, true},
		{1, 500 * time.Millisecond, true},
		{2, 2 * time.Second, true},
		{-1, time.Second, false},
		{1, 0, false},
		{1, -time.Second, false},
		{1, 3 * time.Second, false},
	} {
		_, err := hatchetflow.New(nil, rdb, hatchetflow.WithDispatcher(benchNoDispatch{}), hatchetflow.WithReplicaAcks(tc.replicas, tc.timeout))
		if tc.ok {
			if err != nil {
				t.Errorf("WithReplicaAcks(%d, %v): %v", tc.replicas, tc.timeout, err)
			}
			continue
		}
		var ie *hatchetflow.InvalidOptionError
		if !errors.Is(err, hatchetflow.ErrInvalidOption) || !errors.As(err, &ie) || ie.Option != "WithReplicaAcks" {
			t.Errorf("WithReplicaAcks(%d, %v): %v, want an *InvalidOptionError", tc.replicas, tc.timeout, err)
		}
	}
}
