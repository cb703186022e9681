package beecloud_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// benchSenders is how many deliveries are in flight at once.
const benchSenders = 32

var (
	benchBodiesMu sync.Mutex
	benchBodies   [][]byte
)

// distinctBodies returns n signed webhook bodies, each of its own
// transaction, made once and shared by the benchmarks (each of which
// starts from an empty store).
func distinctBodies(n int) [][]byte {
	benchBodiesMu.Lock()
	defer benchBodiesMu.Unlock()
	for i := len(benchBodies); i < n; i++ {
		o := beecloud.Order{
			Title: "测试商品", Amount: int64(100 + i%1000), OutTradeNo: fmt.Sprintf("bench%010d", i),
			Optional: map[string]any{"agent_id": "Alice", "user_id": 12345678},
		}
		benchBodies = append(benchBodies, beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(o)))
	}
	return benchBodies[:n]
}

// bareHandler is the baseline: what any webhook endpoint does at the
// least, read the body and answer success.
var bareHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "success")
})

// BenchmarkWebhookHandlerHTTP measures deliveries of distinct
// transactions over loopback HTTP, 32 in flight over keep-alive
// connections, answered by a WebhookHandler (default MemStore, logging
// off, a Handle that does nothing) and, as the baseline, by a bare handler
// that reads the body and answers success. Compare them with benchstat;
// cpu-ns/op is the process's CPU time (client and server) per delivery.
func BenchmarkWebhookHandlerHTTP(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchHTTP(b, bareHandler) })
	b.Run("handler", func(b *testing.B) {
		h := &beecloud.WebhookHandler{
			Apps:   beecloud.Apps{handlerConfig},
			Handle: func(ctx context.Context, n *beecloud.Notification) error { return nil },
			Logger: slog.New(slog.DiscardHandler),
		}
		if err := h.Validate(); err != nil {
			b.Fatal(err)
		}
		benchHTTP(b, h)
	})
}

// BenchmarkWebhookHandlerHTTPRatio is BenchmarkWebhookHandlerHTTP with
// the two sides taking turns within one run, rounds of 2,000 deliveries
// each, so that a neighbour's load, which comes and goes over seconds,
// weighs on both alike: on a shared machine the two halves of
// BenchmarkWebhookHandlerHTTP, a few seconds apart, can differ by half.
// Each round sends the same bodies to both. It reports the handler's
// throughput and CPU time per delivery as fractions of the bare
// handler's (handler/bare, higher is better).
func BenchmarkWebhookHandlerHTTPRatio(b *testing.B) {
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{handlerConfig},
		Handle: func(ctx context.Context, n *beecloud.Notification) error { return nil },
		Logger: slog.New(slog.DiscardHandler),
	}
	bodies := distinctBodies(b.N)
	sides := []http.Handler{bareHandler, h}
	servers := make([]*httptest.Server, len(sides))
	clients := make([]*http.Client, len(sides))
	for i, side := range sides {
		servers[i] = httptest.NewServer(side)
		defer servers[i].Close()
		clients[i] = &http.Client{Transport: &http.Transport{
			MaxIdleConns:        2 * benchSenders,
			MaxIdleConnsPerHost: 2 * benchSenders,
		}}
		defer clients[i].CloseIdleConnections()
	}
	const round = 2000
	var wall, cpu [2]time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for start := 0; start < b.N; start += round {
		chunk := bodies[start:min(start+round, b.N)]
		for i := range sides {
			t, c := time.Now(), processCPU()
			sendAll(b, clients[i], servers[i].URL, chunk)
			wall[i] += time.Since(t)
			cpu[i] += processCPU() - c
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(wall[1])/float64(b.N), "handler-ns/delivery")
	b.ReportMetric(float64(wall[0])/float64(b.N), "bare-ns/delivery")
	b.ReportMetric(float64(wall[0])/float64(wall[1]), "handler/bare-throughput")
	if cpu[0] > 0 && cpu[1] > 0 {
		b.ReportMetric(float64(cpu[0])/float64(cpu[1]), "bare/handler-cpu")
	}
}

// sendAll posts every body to url, benchSenders at a time, and checks
// that each is answered success.
func sendAll(b *testing.B, client *http.Client, url string, bodies [][]byte) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var answer [16]byte
			for {
				i := next.Add(1) - 1
				if i >= int64(len(bodies)) {
					return
				}
				if err := deliver(client, url, bodies[i], &answer); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkWebhookHandlerServeHTTP is BenchmarkWebhookHandlerHTTP
// without the network: the same two handlers called directly, one
// delivery after another, so that what the handler itself costs beyond
// reading the body shows without the noise of loopback I/O and
// scheduling.
func BenchmarkWebhookHandlerServeHTTP(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchServeHTTP(b, bareHandler) })
	b.Run("handler", func(b *testing.B) {
		h := &beecloud.WebhookHandler{
			Apps:   beecloud.Apps{handlerConfig},
			Handle: func(ctx context.Context, n *beecloud.Notification) error { return nil },
			Logger: slog.New(slog.DiscardHandler),
		}
		benchServeHTTP(b, h)
	})
}

func benchServeHTTP(b *testing.B, h http.Handler) {
	bodies := distinctBodies(b.N)
	reqs := make([]*http.Request, b.N)
	for i, body := range bodies {
		reqs[i] = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, r := range reqs {
		w := &answerWriter{header: make(http.Header)}
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK || string(w.text[:w.n]) != "success" {
			b.Fatalf("answer %d %q; want success", w.status, w.text[:w.n])
		}
	}
}

// answerWriter is a ResponseWriter that keeps the first bytes of the
// answer: lighter than an httptest.ResponseRecorder, so as to weigh the
// handlers rather than the recorder.
type answerWriter struct {
	header http.Header
	status int
	text   [16]byte
	n      int
}

func (w *answerWriter) Header() http.Header { return w.header }

func (w *answerWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *answerWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += copy(w.text[w.n:], p)
	return len(p), nil
}

func benchHTTP(b *testing.B, h http.Handler) {
	bodies := distinctBodies(b.N)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        2 * benchSenders,
		MaxIdleConnsPerHost: 2 * benchSenders,
	}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	b.SetParallelism((benchSenders + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	defer func() {
		// On a machine shared with other work, wall time swings with the
		// neighbours' load; the CPU time of the process (client and server
		// both) is the steadier measure of what a delivery costs.
		if cpu > 0 {
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		}
	}()
	b.RunParallel(func(pb *testing.PB) {
		var answer [16]byte
		for pb.Next() {
			body := bodies[next.Add(1)-1]
			if err := deliver(client, srv.URL, body, &answer); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// deliver POSTs one webhook body to url and checks that it is answered
// success; answer is the caller's buffer for the reply.
func deliver(client *http.Client, url string, body []byte, answer *[16]byte) error {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	n, _ := io.ReadFull(resp.Body, answer[:])
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(answer[:n]) != "success" {
		return fmt.Errorf("answer %d %q; want success", resp.StatusCode, answer[:n])
	}
	return nil
}
