package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/redisstore"
)

// A signature's lifecycle: saved pending, started by one run (a second run is turned
// away), finished with its result; any other transition is refused with a typed error.
func ExampleStore_Start() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	store := redisstore.New(rdb)
	ctx := context.Background()

	id, _ := redisstore.NewID()
	err := store.SaveTree(ctx, []*redisstore.Record{{ID: id, Task: "process-order",
		Kwargs: map[string]any{"priority": "high"}, CreatedAt: time.Now()}})
	fmt.Println("saved:", err)

	outcome, rec, _ := store.Start(ctx, id, "run-1", 1)
	fmt.Println(outcome, rec.Status, rec.Kwargs["priority"])
	outcome, _, _ = store.Start(ctx, id, "run-2", 1)
	fmt.Println("second run:", outcome)

	tr, _ := store.Finish(ctx, id, "run-1", json.RawMessage(`{"total":42}`), nil)
	fmt.Println(tr.Record.Status, string(tr.Record.Result))

	_, err = store.Fail(ctx, id, "run-1", "too late")
	fmt.Println(errors.Is(err, redisstore.ErrTransition))
	// Output:
	// saved: <nil>
	// started active high
	// second run: busy
	// done {"total":42}
	// true
}
