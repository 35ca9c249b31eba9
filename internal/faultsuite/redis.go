package faultsuite

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// NewRedis returns a client for a Redis URL: redis://host:port/db as go-redis parses
// it, or redis-sentinel://host:port[,host:port...]/master for a master that Redis
// Sentinel watches (a failover client: it follows the master through a failover).
func NewRedis(u string) (*redis.Client, error) {
	if rest, ok := strings.CutPrefix(u, "redis-sentinel://"); ok {
		addrs, master, ok := strings.Cut(rest, "/")
		if !ok || master == "" || addrs == "" {
			return nil, fmt.Errorf("faultsuite: %q: want redis-sentinel://host:port[,host:port]/master", u)
		}
		master, err := url.PathUnescape(master)
		if err != nil {
			return nil, err
		}
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: master, SentinelAddrs: strings.Split(addrs, ",")}), nil
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opt), nil
}
