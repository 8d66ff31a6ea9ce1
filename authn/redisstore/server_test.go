package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// privateServer is a redis-server of the test's own, which the test may
// stop and start again on the same port, and whose settings it chooses.
type privateServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string
	cmd  *exec.Cmd
}

// newPrivateServer starts a redis-server on a free loopback port with
// extra settings args; it stops when t ends. Without the binary the test
// fails in CI and is skipped elsewhere.
func newPrivateServer(t testing.TB, args ...string) *privateServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is not installed: the private-server tests need it in CI")
		}
		t.Skip("redis-server is not installed: skipping the private-server tests")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	s := &privateServer{t: t, bin: bin, dir: t.TempDir(), port: port, args: args}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *privateServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *privateServer) start() {
	s.t.Helper()
	args := append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	s.cmd = exec.Command(s.bin, args...)
	require.NoError(s.t, s.cmd.Start())
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("the private redis-server did not start: %s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *privateServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *privateServer) String() string { return fmt.Sprintf("redis-server on %s", s.addr()) }

// newPrivateCluster starts n redis-server nodes in cluster mode, joins
// them into one cluster of n primaries (no replicas) with redis-cli, and
// returns a client of it once every slot is served.
func newPrivateCluster(t testing.TB, n int) *redis.ClusterClient {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-cli is not installed: the cluster test needs it in CI")
		}
		t.Skip("redis-cli is not installed: skipping the cluster test")
	}
	args := []string{"--cluster", "create"}
	var addrs []string
	for range n {
		// A node that misses the others' pings for the node timeout is
		// marked failing, and with full coverage required the whole
		// cluster then answers CLUSTERDOWN: on a loaded test machine 5 s
		// was not enough. No node fails here on purpose, so the timeout
		// is long and a slot's owner keeps serving it whatever the others.
		s := newPrivateServer(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "60000", "--cluster-require-full-coverage", "no")
		addrs = append(addrs, s.addr())
	}
	args = append(args, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = c.Close() })
	// Each node decides the cluster's state for itself: wait until every
	// one of them says ok, not only the first asked.
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range addrs {
		node := redis.NewClient(&redis.Options{Addr: addr})
		for {
			info, err := node.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				_ = node.Close()
				t.Fatalf("the cluster did not come up on %s: %v %s", addr, err, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = node.Close()
	}
	c.ReloadState(context.Background())
	return c
}
