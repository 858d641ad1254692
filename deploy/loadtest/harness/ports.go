package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// freeportMain prints one UDP port p such that p..p+n-1 can be bound on
// the address (and TCP too with -tcp): SIPp's media port needs p and p+2,
// a SIP port wants UDP and TCP. Another process may take it before it is
// used; run.sh checks that everything started.
func freeportMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("freeport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1, "number of consecutive free ports")
	ip := fs.String("ip", "127.0.0.1", "address to bind")
	withTCP := fs.Bool("tcp", false, "the ports must be free for TCP as well")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for range 200 {
		c, err := net.ListenPacket("udp", net.JoinHostPort(*ip, "0"))
		if err != nil {
			fmt.Fprintln(stderr, "freeport:", err)
			return 1
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		_ = c.Close()
		if p+*n-1 > 65535 {
			continue
		}
		if allFree(*ip, p, *n, *withTCP) {
			fmt.Fprintln(stdout, p)
			return 0
		}
	}
	fmt.Fprintln(stderr, "freeport: no free port range found")
	return 1
}

func allFree(ip string, p, n int, withTCP bool) bool {
	var held []io.Closer
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for i := range n {
		addr := net.JoinHostPort(ip, strconv.Itoa(p+i))
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		held = append(held, c)
		if withTCP {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return false
			}
			held = append(held, l)
		}
	}
	return true
}

// sockStat sums the kernel counters of one process's UDP sockets.
type sockStat struct {
	sockets int
	rxQueue int64 // bytes waiting in the receive queues (skb truesize)
	drops   int64 // datagrams dropped because a receive queue was full
}

// sockstatMain prints, for each PID, "pid=P udp_sockets=N rx_queue=B
// drops=D" from /proc/net/udp{,6}, matching the process's socket inodes.
func sockstatMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: harness sockstat PID...")
		return 2
	}
	table, err := readUDPTable()
	if err != nil {
		fmt.Fprintln(stderr, "sockstat:", err)
		return 1
	}
	rc := 0
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil || pid <= 0 {
			fmt.Fprintf(stderr, "sockstat: bad pid %q\n", a)
			return 2
		}
		inodes, err := socketInodes(pid)
		if err != nil {
			fmt.Fprintln(stderr, "sockstat:", err)
			rc = 1
			continue
		}
		var s sockStat
		for ino := range inodes {
			if e, ok := table[ino]; ok {
				s.sockets++
				s.rxQueue += e.rxQueue
				s.drops += e.drops
			}
		}
		fmt.Fprintf(stdout, "pid=%d udp_sockets=%d rx_queue=%d drops=%d\n", pid, s.sockets, s.rxQueue, s.drops)
	}
	return rc
}

// socketInodes returns the inodes of the sockets pid holds open.
func socketInodes(pid int) (map[string]bool, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if ino, ok := strings.CutPrefix(link, "socket:["); ok {
			out[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return out, nil
}

type udpEntry struct {
	rxQueue int64
	drops   int64
}

// readUDPTable parses /proc/net/udp and /proc/net/udp6, keyed by inode.
// Columns (net/ipv4/udp.c udp4_format_sock): sl local rem st tx:rx tr:when
// retrnsmt uid timeout inode ref pointer drops.
func readUDPTable() (map[string]udpEntry, error) {
	out := map[string]udpEntry{}
	for _, name := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		first := true
		for sc.Scan() {
			if first {
				first = false
				continue
			}
			fl := strings.Fields(sc.Text())
			if len(fl) < 13 {
				continue
			}
			_, rxHex, ok := strings.Cut(fl[4], ":")
			if !ok {
				continue
			}
			rx, err1 := strconv.ParseInt(rxHex, 16, 64)
			drops, err2 := strconv.ParseInt(fl[len(fl)-1], 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			out[fl[9]] = udpEntry{rxQueue: rx, drops: drops}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
