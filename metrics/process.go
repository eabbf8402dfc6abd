package metrics

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startTime stands for the process's start: metrics are set up in its
// first milliseconds.
var startTime = time.Now()

// runtimeFamilies are a few of the Go runtime's and the process's figures,
// read at each scrape, under the names Prometheus's own collectors give
// them. Figures a platform does not offer are left out.
func runtimeFamilies() []*family {
	gauge := func(name, help string, v float64) *family {
		f := newFamily(name, help, gaugeKind)
		f.with().set(v)
		return f
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	info := newFamily("go_info", "Information about the Go environment.", gaugeKind, "version")
	info.with(runtime.Version()).set(1)
	fs := []*family{
		info,
		gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine())),
		gauge("go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use.", float64(ms.HeapAlloc)),
		gauge("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", float64(ms.HeapInuse)),
		gauge("go_memstats_sys_bytes", "Number of bytes obtained from system.", float64(ms.Sys)),
		gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", float64(startTime.UnixNano())/1e9),
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		f := newFamily("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", counterKind)
		f.with().set(cpu)
		fs = append(fs, f)
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if fields := strings.Fields(string(b)); len(fields) >= 2 {
			page := float64(os.Getpagesize())
			if v, err := strconv.ParseFloat(fields[0], 64); err == nil {
				fs = append(fs, gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", v*page))
			}
			if v, err := strconv.ParseFloat(fields[1], 64); err == nil {
				fs = append(fs, gauge("process_resident_memory_bytes", "Resident memory size in bytes.", v*page))
			}
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		fs = append(fs, gauge("process_open_fds", "Number of open file descriptors.", float64(len(fds))))
	}
	return fs
}
