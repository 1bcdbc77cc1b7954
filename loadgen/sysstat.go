package loadgen

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

// sysStat is what the kernel says about the whole machine: busy CPU time
// (all cores) and UDP datagrams dropped for full socket buffers. On
// loopback both ends are on this machine, so a drop on either side shows
// here; other processes' CPU shows as the machine's minus the server's and
// the generator's. Zero where /proc is unreadable (not Linux).
type sysStat struct {
	busy         time.Duration
	softirq      time.Duration // part of busy: mostly loopback packet delivery
	rcvbufErrors uint64
}

// clockTick is USER_HZ, 100 on every Linux architecture Go supports.
const clockTick = 100

func readSysStat() sysStat {
	var s sysStat
	if f, err := os.Open("/proc/stat"); err == nil {
		sc := bufio.NewScanner(f)
		if sc.Scan() {
			fields := strings.Fields(sc.Text())
			// cpu user nice system idle iowait irq softirq steal …
			for i, v := range fields {
				if i == 0 || i == 4 || i == 5 {
					continue // the label, idle, iowait
				}
				n, _ := strconv.ParseUint(v, 10, 64)
				if i <= 8 {
					s.busy += time.Duration(n) * time.Second / clockTick
				}
				if i == 7 {
					s.softirq = time.Duration(n) * time.Second / clockTick
				}
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/net/snmp"); err == nil {
		s.rcvbufErrors = udpCounter(string(b), "RcvbufErrors")
	}
	return s
}

// udpCounter reads one counter of the Udp: lines of /proc/net/snmp (a
// header line of names, then a line of values).
func udpCounter(snmp, name string) uint64 {
	var names []string
	for _, line := range strings.Split(snmp, "\n") {
		rest, ok := strings.CutPrefix(line, "Udp: ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == name && i < len(f) {
				v, _ := strconv.ParseUint(f[i], 10, 64)
				return v
			}
		}
		return 0
	}
	return 0
}
