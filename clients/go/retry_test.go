package progimage_test

// Retries against a scripted server: the real one cannot be made to answer 429 or 503 on
// demand.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	progimage "github.com/progimage/progimage/clients/go"
)

// call is one request the scripted server received.
type call struct {
	at             time.Time
	method         string
	requestID      string
	idempotencyKey string
	body           string
}

// scripted answers the n-th request with the n-th answer (the last one repeating) and
// records every request.
type scripted struct {
	mu      sync.Mutex
	calls   []call
	answers []func(w http.ResponseWriter)
	server  *httptest.Server
}

func newScripted(t *testing.T, answers ...func(w http.ResponseWriter)) *scripted {
	t.Helper()
	s := &scripted{answers: answers}
	s.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.calls = append(s.calls, call{time.Now(), r.Method, r.Header.Get("X-Request-Id"), r.Header.Get("Idempotency-Key"), string(body)})
		answer := s.answers[min(len(s.calls), len(s.answers))-1]
		s.mu.Unlock()
		answer(w)
	}))
	t.Cleanup(s.server.Close)
	return s
}

func (s *scripted) recorded() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

func problem(status int, code string, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"type":"urn:progimage:problem:%s","title":"%s","status":%d,"detail":"scripted","code":"%s","request_id":"r"}`, code, code, status, code)
	}
}

func answer(status int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const emptyPage = `{"images":[],"next_cursor":null}`

// fastRetries keeps backoff delays short: 10 ms, then 20 ms, capped at 40 ms.
func (s *scripted) client(t *testing.T, options ...progimage.Option) *progimage.Client {
	t.Helper()
	client, err := progimage.New(s.server.URL, append([]progimage.Option{progimage.WithBackoff(10*time.Millisecond, 40*time.Millisecond)}, options...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestA503OnAGetIsRetriedWithOneRequestID(t *testing.T) {
	s := newScripted(t, problem(503, "unavailable"), problem(503, "unavailable"), answer(200, emptyPage))
	page, err := s.client(t).Images.ListPage(context.Background(), nil)
	if err != nil || len(page.Images) != 0 {
		t.Fatalf("page %v, %v", page, err)
	}
	calls := s.recorded()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3", len(calls))
	}
	if calls[0].requestID == "" || calls[0].requestID != calls[1].requestID || calls[1].requestID != calls[2].requestID {
		t.Errorf("request ids %q %q %q", calls[0].requestID, calls[1].requestID, calls[2].requestID)
	}
	// Delays are between half and all of 10 ms, then of 20 ms.
	if gap := calls[1].at.Sub(calls[0].at); gap < 5*time.Millisecond {
		t.Errorf("first delay %v", gap)
	}
	if gap := calls[2].at.Sub(calls[1].at); gap < 10*time.Millisecond {
		t.Errorf("second delay %v", gap)
	}
}

func TestRetryAfterIsWaitedOut(t *testing.T) {
	s := newScripted(t, problem(429, "rate_limited", "Retry-After", "1"), answer(200, emptyPage))
	if _, err := s.client(t).Images.ListPage(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	calls := s.recorded()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	if gap := calls[1].at.Sub(calls[0].at); gap < 990*time.Millisecond || gap > 3*time.Second {
		t.Errorf("waited %v for Retry-After: 1", gap)
	}
}

func TestAfterTheLastRetryTheErrorIsReturnedWithItsRetryAfter(t *testing.T) {
	s := newScripted(t, problem(503, "unavailable", "Retry-After", "0"))
	_, err := s.client(t, progimage.WithMaxRetries(3)).Images.ListPage(context.Background(), nil)
	var apiErr *progimage.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != progimage.CodeUnavailable || !errors.Is(err, progimage.ErrUnavailable) || !apiErr.Retryable() {
		t.Fatalf("error %v", err)
	}
	if got := len(s.recorded()); got != 4 {
		t.Errorf("%d calls, want 4", got)
	}

	long := newScripted(t, problem(429, "rate_limited", "Retry-After", "120"))
	_, err = long.client(t).Images.ListPage(context.Background(), nil)
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 120*time.Second {
		t.Fatalf("error %v", err)
	}
	if got := len(long.recorded()); got != 1 {
		t.Errorf("a Retry-After of two minutes was waited out: %d calls", got)
	}
}

func TestAnUploadIsRetriedOn429ButNotOn503(t *testing.T) {
	image := `{"id":"x","format":"png"}`
	limited := newScripted(t, problem(429, "rate_limited", "Retry-After", "0"), answer(201, image))
	if _, err := limited.client(t).Images.Upload(context.Background(), strings.NewReader("bytes"), nil); err != nil {
		t.Fatal(err)
	}
	calls := limited.recorded()
	if len(calls) != 2 || calls[0].body != "bytes" || calls[1].body != "bytes" {
		t.Errorf("a rewindable upload after a 429: %+v", calls)
	}

	overloaded := newScripted(t, problem(503, "unavailable", "Retry-After", "0"), answer(201, image))
	_, err := overloaded.client(t).Images.Upload(context.Background(), strings.NewReader("bytes"), nil)
	if !errors.Is(err, progimage.ErrUnavailable) || len(overloaded.recorded()) != 1 {
		t.Errorf("an upload after a 503: %v, %d calls", err, len(overloaded.recorded()))
	}

	// A reader that cannot be rewound is sent once.
	once := newScripted(t, problem(429, "rate_limited", "Retry-After", "0"), answer(201, image))
	_, err = once.client(t).Images.Upload(context.Background(), io.MultiReader(strings.NewReader("bytes")), nil)
	if len(once.recorded()) != 1 {
		t.Errorf("a stream was sent %d times (%v)", len(once.recorded()), err)
	}
	var apiErr *progimage.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 {
		t.Errorf("error %v", err)
	}
}

func TestAMultipartUploadIsReplayedWhole(t *testing.T) {
	s := newScripted(t, problem(429, "rate_limited", "Retry-After", "0"), answer(201, `{"items":[{"image":{"id":"a"},"error":null},{"image":null,"error":{"code":"invalid_image","status":422}}]}`))
	results, err := s.client(t).Images.UploadMany(context.Background(), []progimage.UploadFile{
		{Reader: bytes.NewReader([]byte("first")), Filename: "a.png"},
		{Reader: strings.NewReader("second"), ContentType: "image/png"},
	}, &progimage.UploadManyOptions{Eager: []progimage.Format{progimage.WebP}})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Image.ID != "a" || results[1].Problem.Code != progimage.CodeInvalidImage {
		t.Errorf("results %+v", results)
	}
	calls := s.recorded()
	if len(calls) != 2 || calls[0].body != calls[1].body {
		t.Fatalf("%d calls; bodies differ: %v", len(calls), len(calls) == 2)
	}
	for _, part := range []string{
		"Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nfirst\r\n",
		"Content-Disposition: form-data; name=\"file\"\r\nContent-Type: image/png\r\n\r\nsecond\r\n",
	} {
		if !strings.Contains(calls[1].body, part) {
			t.Errorf("the body lacks %q:\n%s", part, calls[1].body)
		}
	}
}

func TestAFailureWithNoAnswerIsRetriedOnlyForIdempotentCalls(t *testing.T) {
	var mu sync.Mutex
	attempts := 0
	// The first connection is closed before any answer, the next ones are served.
	flaky := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempts++
		first := attempts == 1
		mu.Unlock()
		if first {
			connection, _, _ := w.(http.Hijacker).Hijack()
			connection.Close()
			return
		}
		answer(200, emptyPage)(w)
	}))
	flaky.Start()
	defer flaky.Close()
	client, err := progimage.New(flaky.URL, progimage.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Images.ListPage(context.Background(), nil); err != nil {
		t.Errorf("a GET after a dropped connection: %v", err)
	}
	mu.Lock()
	attempts = 0
	mu.Unlock()
	_, err = client.Images.Upload(context.Background(), strings.NewReader("bytes"), nil)
	var apiErr *progimage.APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Errorf("an upload after a dropped connection: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 1 {
		t.Errorf("the upload was sent %d times", attempts)
	}
}

func TestAJobSubmissionCarriesOneIdempotencyKeyAcrossRetries(t *testing.T) {
	s := newScripted(t, problem(503, "unavailable", "Retry-After", "0"), answer(202, `{"id":"j","status":"queued","url":"/v1/jobs/j","total":1}`))
	accepted, err := s.client(t).Jobs.Submit(context.Background(), &progimage.JobRequest{Items: []progimage.JobItemRequest{{URL: "https://example.com/a.png"}}})
	if err != nil {
		t.Fatal(err)
	}
	if accepted.ID != "j" || accepted.Status != progimage.JobQueued {
		t.Errorf("accepted %+v", accepted)
	}
	calls := s.recorded()
	if len(calls) != 2 || len(calls[0].idempotencyKey) != 36 || calls[0].idempotencyKey != calls[1].idempotencyKey {
		t.Errorf("keys %+v", calls)
	}
	if calls[0].body != `{"items":[{"url":"https://example.com/a.png"}]}` {
		t.Errorf("body %s", calls[0].body)
	}
}

func TestTheCallersContextStopsRetries(t *testing.T) {
	s := newScripted(t, problem(503, "unavailable", "Retry-After", "30"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := s.client(t).Images.ListPage(ctx, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(started) > 5*time.Second {
		t.Errorf("error %v after %v", err, time.Since(started))
	}
}

func TestAnErrorThatIsNotAProblemDocumentKeepsItsStatus(t *testing.T) {
	s := newScripted(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		io.WriteString(w, "<html>Bad gateway</html>")
	})
	_, err := s.client(t, progimage.WithMaxRetries(0)).Images.Get(context.Background(), "x")
	var apiErr *progimage.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 502 || apiErr.Code != "" || apiErr.Detail != "<html>Bad gateway</html>" || !apiErr.Retryable() {
		t.Errorf("error %#v", err)
	}
}

func TestTheUserAgentAndAPIKeyAreSent(t *testing.T) {
	var got http.Header
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		answer(200, emptyPage)(w)
	}))
	defer server.Close()
	plain, _ := progimage.New(server.URL)
	if _, err := plain.Images.ListPage(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Get("User-Agent"), "progimage-go/"+progimage.Version) || got.Get("Authorization") != "" {
		t.Errorf("default headers %v", got)
	}
	custom, _ := progimage.New(server.URL, progimage.WithUserAgent("uploader/2"), progimage.WithAPIKey("s3cr3t"))
	if _, err := custom.Images.ListPage(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got.Get("User-Agent") != "uploader/2" || got.Get("Authorization") != "Bearer s3cr3t" {
		t.Errorf("custom headers %v", got)
	}
}

// TestARefusedUploadsConnectionIsNotReused plays a server that refuses an upload from its
// headers and then treats the connection as finished without saying so, as progimage-api
// does: a request sent on that connection again is dropped unanswered.
func TestARefusedUploadsConnectionIsNotReused(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	go func() {
		for {
			connection, err := listener.Accept()
			if err != nil {
				return
			}
			go func() {
				defer connection.Close()
				reader := bufio.NewReader(connection)
				refused := false
				for {
					request, err := http.ReadRequest(reader)
					if err != nil || refused {
						return
					}
					if request.URL.Query().Get("filename") == "refuse.txt" {
						refused = true
						problem := `{"status":415,"code":"unsupported_media_type"}`
						fmt.Fprintf(connection, "HTTP/1.1 415 Unsupported Media Type\r\nContent-Type: application/problem+json\r\nContent-Length: %d\r\n\r\n%s", len(problem), problem)
						continue
					}
					if request.Header.Get("Expect") == "100-continue" {
						io.WriteString(connection, "HTTP/1.1 100 Continue\r\n\r\n")
					}
					if _, err := io.Copy(io.Discard, request.Body); err != nil {
						return
					}
					body := `{"id":"stored"}`
					fmt.Fprintf(connection, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				}
			}()
		}
	}()
	client, err := progimage.New("http://"+listener.Addr().String(), progimage.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.Images.Upload(ctx, strings.NewReader("first"), nil); err != nil {
		t.Fatal(err)
	}
	_, err = client.Images.Upload(ctx, strings.NewReader("text"), &progimage.UploadOptions{Filename: "refuse.txt"})
	var apiErr *progimage.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 415 {
		t.Fatalf("the refusal: %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := client.Images.Upload(ctx, io.MultiReader(strings.NewReader("next")), nil); err != nil {
			t.Fatalf("upload %d after the refusal: %v", i, err)
		}
	}
}
