// Small programs with one known bottleneck each, profiled with Go's own CPU profiler
// (runtime/pprof). scripts/record-interpret runs every scenario and writes
// Tests/Fixtures/interpret/<scenario>.pb.gz; expected.tsv there names the function and category
// the offline analyzer must report; diffs.tsv does the same for the service-* before/after pairs.
//
//	go run scripts/interpret/main.go -scenario regex-compile-in-loop -out /tmp/p.pb.gz -seconds 3
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/big"
	"os"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

var sink int

func lines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "key" + strconv.Itoa(i%97) + "=" + strconv.Itoa(i)
	}
	return out
}

// regex-compile-in-loop: the pattern is compiled for every line.
func matchWithFreshRegexp(input []string) {
	for _, l := range input {
		re := regexp.MustCompile(`^(key[0-9]+)=([0-9]+)$`)
		if re.MatchString(l) {
			sink++
		}
	}
}

// allocation-churn: builds and drops many small pointer-rich objects.
type node struct {
	next  *node
	value []int
	name  string
}

func buildGarbageLists() {
	var head *node
	for i := 0; i < 2000; i++ {
		head = &node{next: head, value: make([]int, 8), name: strconv.Itoa(i)}
	}
	if head != nil {
		sink += len(head.value)
	}
}

// lock-contention: eight goroutines increment one counter under one mutex.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) incrementShared(key string) {
	c.mu.Lock()
	c.n[key]++
	c.mu.Unlock()
}

func contendOnSharedCounter(deadline time.Time) {
	c := &counter{n: map[string]int{}}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				for i := 0; i < 1000; i++ {
					c.incrementShared("k")
				}
			}
		}()
	}
	wg.Wait()
}

// unbuffered-writes: one write system call per record.
func writeRecordsUnbuffered(f *os.File) {
	for i := 0; i < 2000; i++ {
		f.Write([]byte("record\n"))
	}
}

// json-reflection: encodes and decodes structs through encoding/json.
type event struct {
	ID        int               `json:"id"`
	Name      string            `json:"name"`
	Tags      []string          `json:"tags"`
	Attrs     map[string]string `json:"attrs"`
	Timestamp int64             `json:"ts"`
}

func encodeEventsAsJSON(events []event) {
	for i := range events {
		b, _ := json.Marshal(&events[i])
		var back event
		json.Unmarshal(b, &back)
		sink += back.ID
	}
}

func makeEvents() []event {
	events := make([]event, 200)
	for i := range events {
		events[i] = event{ID: i, Name: "event-" + strconv.Itoa(i), Tags: []string{"a", "b", "c"},
			Attrs: map[string]string{"host": "web-1", "region": "eu"}, Timestamp: int64(i)}
	}
	return events
}

// repeated-hashing: the same payload is hashed again for every lookup.
func checksumPayloadAgain(payload []byte) {
	for i := 0; i < 50; i++ {
		sum := sha256.Sum256(payload)
		sink += int(sum[0])
	}
}

// string-formatting: builds a report line by line with fmt.Sprintf and +=.
func formatReportWithSprintf() {
	s := ""
	for i := 0; i < 300; i++ {
		s += fmt.Sprintf("%s=%d;%0.3f|", "metric", i, float64(i)/7)
	}
	sink += len(s)
}

// compression-per-record: every small record gets its own gzip stream at the best level.
func compressEachRecord(records [][]byte) {
	for _, r := range records {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(r)
		w.Close()
		sink += buf.Len()
	}
}

// sort-in-loop: the whole slice is sorted again to find the maximum after each insert.
func topScoreBySortingAgain(scores []int) {
	var window []int
	for _, s := range scores {
		window = append(window, s)
		sort.Ints(window)
		sink += window[len(window)-1]
	}
}

// bignum-factorial: arbitrary-precision arithmetic.
func factorialBig(n int64) {
	f := big.NewInt(1)
	for i := int64(2); i <= n; i++ {
		f.Mul(f, big.NewInt(i))
	}
	sink += f.BitLen()
}

// clock-in-loop: reads the time for every item.
func stampEveryItem() {
	var last time.Time
	for i := 0; i < 100000; i++ {
		last = time.Now()
	}
	sink += last.Nanosecond()
}

// logging-hot-path: formats and writes a log line per item.
func handleWithVerboseLogging(logger *log.Logger) {
	for i := 0; i < 1000; i++ {
		logger.Printf("handled item %d of batch %s with status %v", i, "batch-7", true)
	}
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// quadratic-dedupe: plain user code with a quadratic algorithm, no library involved.
func dedupeQuadratic(items []int) int {
	var unique []int
	for _, x := range items {
		seen := false
		for _, u := range unique {
			if u == x {
				seen = true
				break
			}
		}
		if !seen {
			unique = append(unique, x)
		}
	}
	return len(unique)
}

// map-growth: a map is filled from empty each time without a size hint.
func indexWithoutPresize() {
	m := map[int]int{}
	for i := 0; i < 50000; i++ {
		m[i] = i
	}
	sink += len(m)
}

// service-*: one request handler in four versions, the "before" and "after" of three regressions.
// The base version parses, deduplicates and checksums each request; each other version adds one cost.
type request struct {
	lines []string
	items []int
	body  []byte
}

var serviceMu sync.Mutex

func parseRequest(r *request, variant string) int {
	n := 0
	for _, l := range r.lines {
		if variant == "regex" {
			if regexp.MustCompile(`^key[0-9]+=`).MatchString(l) {
				n++
			}
		} else if strings.HasPrefix(l, "key") {
			n++
		}
	}
	return n
}

func encodeResponse(r *request) int {
	b, _ := json.Marshal(map[string]interface{}{"lines": r.lines, "items": r.items})
	return len(b)
}

func handleRequest(r *request, variant string) {
	if variant == "lock" {
		serviceMu.Lock()
		defer serviceMu.Unlock()
	}
	sink += parseRequest(r, variant)
	sink += dedupeQuadratic(r.items)
	sum := sha256.Sum256(r.body)
	sink += int(sum[1])
	if variant == "json" {
		sink += encodeResponse(r)
	}
}

func serveRequests(variant string, deadline time.Time) {
	r := &request{lines: lines(200), items: make([]int, 400), body: bytes.Repeat([]byte("body "), 4096)}
	for i := range r.items {
		r.items[i] = (i * 31) % 300
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				handleRequest(r, variant)
			}
		}()
	}
	wg.Wait()
}

func main() {
	scenario := flag.String("scenario", "", "scenario name")
	out := flag.String("out", "", "output profile (.pb.gz)")
	seconds := flag.Float64("seconds", 3, "how long to run")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	input := lines(500)
	events := makeEvents()
	payload := bytes.Repeat([]byte("payload "), 8192)
	records := make([][]byte, 50)
	for i := range records {
		records[i] = []byte(strings.Repeat("record "+strconv.Itoa(i)+" ", 20))
	}
	items := make([]int, 3000)
	for i := range items {
		items[i] = (i * 7919) % 2000
	}
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	// Not io.Discard: the log package skips formatting for it.
	logger := log.New(&countingWriter{}, "", log.LstdFlags|log.Lmicroseconds|log.Lshortfile)

	pprof.StartCPUProfile(f)
	for time.Now().Before(deadline) {
		switch *scenario {
		case "regex-compile-in-loop":
			matchWithFreshRegexp(input)
		case "allocation-churn":
			buildGarbageLists()
		case "lock-contention":
			contendOnSharedCounter(deadline)
		case "unbuffered-writes":
			writeRecordsUnbuffered(devnull)
		case "json-reflection":
			encodeEventsAsJSON(events)
		case "repeated-hashing":
			checksumPayloadAgain(payload)
		case "string-formatting":
			formatReportWithSprintf()
		case "compression-per-record":
			compressEachRecord(records)
		case "sort-in-loop":
			topScoreBySortingAgain(items[:500])
		case "bignum-factorial":
			factorialBig(3000)
		case "clock-in-loop":
			stampEveryItem()
		case "logging-hot-path":
			handleWithVerboseLogging(logger)
		case "quadratic-dedupe":
			sink += dedupeQuadratic(items)
		case "map-growth":
			indexWithoutPresize()
		case "service-base", "service-regex", "service-json", "service-lock":
			serveRequests(strings.TrimPrefix(*scenario, "service-"), deadline)
		default:
			log.Fatalf("unknown scenario %q", *scenario)
		}
	}
	pprof.StopCPUProfile()
	f.Close()
}
