package progimage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Version is the SDK's version, sent in the default User-Agent.
const Version = "0.1.0"

// Defaults of the client's options.
const (
	// DefaultTimeout is the time one attempt of a call may take, response body included.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxRetries is how many times a call that may be retried is sent again.
	DefaultMaxRetries = 2
	// DefaultBackoff is the first retry's delay ceiling; each retry doubles it.
	DefaultBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the retry delay ceiling.
	DefaultMaxBackoff = 8 * time.Second
	// MaxRetryAfter is the longest Retry-After the client waits out by itself; past it the
	// error is returned at once.
	MaxRetryAfter = 60 * time.Second
)

// Client is a client of one ProgImage service. It is safe for concurrent use.
type Client struct {
	// Images is GET, POST and DELETE of /v1/images.
	Images *ImagesService
	// Jobs is /v1/jobs: bulk, asynchronous transformations.
	Jobs *JobsService

	baseURL    string
	apiKey     string
	httpClient *http.Client
	userAgent  string
	timeout    time.Duration
	maxRetries int
	backoff    time.Duration
	maxBackoff time.Duration
	// sleep waits between attempts; a test may replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends key as "Authorization: Bearer <key>". The key decides the tenant whose
// images and jobs the client sees; without one the service must run in open mode.
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithHTTPClient sends requests with hc instead of http.DefaultClient (for a proxy, TLS
// settings or a test transport).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.httpClient = hc } }

// WithUserAgent replaces the default User-Agent, "progimage-go/<Version> (<go version>)".
func WithUserAgent(userAgent string) Option { return func(c *Client) { c.userAgent = userAgent } }

// WithTimeout bounds each attempt of a call, response body included (DefaultTimeout); 0 or
// less leaves only the context's deadline. For a download the body is covered until it is
// closed.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxRetries sets how many times a call that may be retried is sent again
// (DefaultMaxRetries); 0 turns retries off.
//
// A 429 is retried for every call whose body can be sent again (it is a refusal before any
// work). A 503 and a failure with no answer are retried only for calls that are safe to
// repeat: GET, DELETE, stateless transforms and job submissions (which carry an
// Idempotency-Key). Uploads are not. A Retry-After of at most MaxRetryAfter is waited out;
// otherwise the delay before retry n (0-based) is random between half and all of
// min(maxBackoff, backoff × 2^n).
func WithMaxRetries(n int) Option {
	return func(c *Client) {
		if n < 0 {
			n = 0
		}
		c.maxRetries = n
	}
}

// WithBackoff sets the first retry delay ceiling and its cap (DefaultBackoff,
// DefaultMaxBackoff).
func WithBackoff(base, max time.Duration) Option {
	return func(c *Client) {
		c.backoff = base
		c.maxBackoff = max
	}
}

// New returns a client of the service at baseURL ("https://images.example.com", or with a
// path prefix the service is mounted under).
func New(baseURL string, options ...Option) (*Client, error) {
	parsed, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("progimage: base URL: %w", err)
	}
	if (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("progimage: base URL %q is not an absolute http(s) URL", baseURL)
	}
	if parsed.RawQuery != "" || parsed.Fragment != "" {
		return nil, fmt.Errorf("progimage: base URL %q has a query or fragment", baseURL)
	}
	c := &Client{
		baseURL:    strings.TrimRight(baseURL, "/"),
		httpClient: http.DefaultClient,
		userAgent:  fmt.Sprintf("progimage-go/%s (%s)", Version, runtime.Version()),
		timeout:    DefaultTimeout,
		maxRetries: DefaultMaxRetries,
		backoff:    DefaultBackoff,
		maxBackoff: DefaultMaxBackoff,
		sleep:      sleepContext,
	}
	for _, option := range options {
		option(c)
	}
	if c.httpClient == nil {
		c.httpClient = http.DefaultClient
	}
	c.Images = &ImagesService{client: c}
	c.Jobs = &JobsService{client: c}
	return c, nil
}

// BaseURL returns the service's root URL, without a trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// WebhookSecret returns the caller's tenant's webhook signing secret
// (GET /v1/webhook-secret), for VerifyWebhook.
func (c *Client) WebhookSecret(ctx context.Context) (string, error) {
	var answer struct {
		Secret string `json:"secret"`
	}
	if err := c.doJSON(ctx, &request{method: http.MethodGet, path: "/v1/webhook-secret", idempotent: true}, &answer); err != nil {
		return "", err
	}
	if answer.Secret == "" {
		return "", errors.New("progimage: the webhook-secret answer has no secret")
	}
	return answer.Secret, nil
}

// request is one logical call; do may send it several times.
type request struct {
	method string
	path   string
	query  []keyValue
	header http.Header
	// body returns a fresh body for each attempt; nil for no body. With replayable false it
	// is called once and the call is never sent twice.
	body       func() (io.Reader, error)
	replayable bool
	// contentLength is the body's length, or -1 when unknown.
	contentLength int64
	// idempotent marks calls whose repetition has the effect of one: they are retried on
	// 503 and on failures with no answer too.
	idempotent bool
	// expectContinue sends "Expect: 100-continue" with a non-empty body: the service then
	// answers a refusal it can make from the headers alone (401, 415, a bad query, 413 from
	// Content-Length) before any of the body is sent. Without it the body of a refused upload
	// would be streamed for nothing, and the service, which does not read it, closes the
	// connection while it arrives, which can reset the connection before the client has
	// read the refusal.
	expectContinue bool
}

// jsonBody makes a request body of a JSON value.
func jsonBody(value interface{}) (func() (io.Reader, error), int64, error) {
	encoded, err := json.Marshal(value)
	if err != nil {
		return nil, 0, fmt.Errorf("progimage: encoding the request: %w", err)
	}
	return func() (io.Reader, error) { return bytes.NewReader(encoded), nil }, int64(len(encoded)), nil
}

// url returns the absolute URL of a path and query.
func (c *Client) url(path string, query []keyValue) string {
	if len(query) == 0 {
		return c.baseURL + path
	}
	return c.baseURL + path + "?" + encodeQuery(query)
}

// response is a successful answer whose body the caller must close.
type response struct {
	status int
	header http.Header
	body   io.ReadCloser
}

// do sends the call, retrying what may be retried, and returns a 2xx or 3xx answer; any
// other status becomes an *APIError.
func (c *Client) do(ctx context.Context, req *request) (*response, error) {
	requestID := newRequestID()
	for attempt := 0; ; attempt++ {
		retriesLeft := attempt < c.maxRetries && (req.body == nil || req.replayable)
		answer, err := c.send(ctx, req, requestID)
		if err != nil {
			// The caller's context ending is final; anything else had no answer at all.
			if ctx.Err() == nil && retriesLeft && req.idempotent {
				if err := c.sleep(ctx, c.backoffDelay(attempt)); err != nil {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		if answer.status < 400 {
			return answer, nil
		}
		body, _ := io.ReadAll(io.LimitReader(answer.body, maxProblemBytes))
		answer.body.Close()
		if req.expectContinue {
			// The service refuses some uploads from their headers and then closes the
			// connection without saying so (no "Connection: close"): the body it did not read
			// would otherwise follow. net/http has by now put that connection back in its idle
			// pool, where the next call would find it dead, so the idle connections are
			// dropped (the only way net/http offers; ones in use are not touched).
			c.httpClient.CloseIdleConnections()
		}
		apiErr := newAPIError(answer.status, answer.header, body, time.Now())
		// A 429 is a refusal before any work, so any call may be sent again; a 503 may come
		// after work was done (a timeout), so only calls safe to repeat are.
		retryable := answer.status == http.StatusTooManyRequests ||
			(answer.status == http.StatusServiceUnavailable && req.idempotent)
		if retriesLeft && retryable && apiErr.RetryAfter <= MaxRetryAfter {
			delay := apiErr.RetryAfter
			if answer.header.Get("Retry-After") == "" {
				delay = c.backoffDelay(attempt)
			}
			if err := c.sleep(ctx, delay); err != nil {
				return nil, err
			}
			continue
		}
		return nil, apiErr
	}
}

// send makes one attempt. The attempt's timeout stays armed until the body is closed.
func (c *Client) send(ctx context.Context, req *request, requestID string) (*response, error) {
	attemptCtx, cancel := ctx, context.CancelFunc(func() {})
	if c.timeout > 0 {
		attemptCtx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	var body io.Reader
	if req.body != nil {
		var err error
		if body, err = req.body(); err != nil {
			cancel()
			return nil, err
		}
	}
	httpReq, err := http.NewRequestWithContext(attemptCtx, req.method, c.url(req.path, req.query), body)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("progimage: %w", err)
	}
	if body != nil {
		// A body of unknown length (-1) goes chunked.
		switch {
		case req.contentLength == 0:
			httpReq.Body, httpReq.ContentLength = http.NoBody, 0
		case req.contentLength > 0:
			httpReq.ContentLength = req.contentLength
		}
	}
	for name, values := range req.header {
		httpReq.Header[name] = values
	}
	if body != nil && req.replayable {
		// Lets net/http send the request again on a fresh connection when a reused one was
		// found closed before anything was written, as it does for in-memory bodies.
		httpReq.GetBody = func() (io.ReadCloser, error) {
			again, err := req.body()
			if err != nil {
				return nil, err
			}
			return io.NopCloser(again), nil
		}
	}
	if req.expectContinue && body != nil && req.contentLength != 0 {
		httpReq.Header.Set("Expect", "100-continue")
	}
	httpReq.Header.Set("User-Agent", c.userAgent)
	httpReq.Header.Set("X-Request-Id", requestID)
	if c.apiKey != "" {
		httpReq.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	answer, err := c.httpClient.Do(httpReq)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("progimage: %s %s: %w", req.method, req.path, err)
	}
	return &response{
		status: answer.StatusCode,
		header: answer.Header,
		body:   &cancelOnClose{ReadCloser: answer.Body, cancel: cancel},
	}, nil
}

// doJSON sends the call and decodes its JSON answer into out (when out is not nil).
func (c *Client) doJSON(ctx context.Context, req *request, out interface{}) error {
	answer, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	defer answer.body.Close()
	if out == nil {
		_, err := io.Copy(io.Discard, answer.body)
		return err
	}
	if err := json.NewDecoder(answer.body).Decode(out); err != nil {
		return fmt.Errorf("progimage: %s %s: reading the %d answer: %w", req.method, req.path, answer.status, err)
	}
	return nil
}

// backoffDelay is the delay before retry number attempt (0-based): random between half and
// all of min(maxBackoff, backoff × 2^attempt), so clients refused together do not come back
// together.
func (c *Client) backoffDelay(attempt int) time.Duration {
	ceiling := c.backoff
	for i := 0; i < attempt && ceiling < c.maxBackoff; i++ {
		ceiling *= 2
	}
	if ceiling > c.maxBackoff {
		ceiling = c.maxBackoff
	}
	if ceiling <= 0 {
		return 0
	}
	half := ceiling / 2
	return half + time.Duration(mathrand.Int63n(int64(ceiling-half)+1))
}

// cancelOnClose releases an attempt's timeout when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close closes the response body and ends the attempt's timeout.
func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// newRequestID returns a random UUID (version 4), sent as x-request-id by every attempt of
// one call so the service's logs tie them together.
func newRequestID() string {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		// crypto/rand does not fail on the platforms Go supports; a fixed id only weakens
		// log correlation.
		return "progimage-go"
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	text := hex.EncodeToString(id[:])
	return text[0:8] + "-" + text[8:12] + "-" + text[12:16] + "-" + text[16:20] + "-" + text[20:32]
}

// pathSegment escapes an id for a path, so that no id can reach another route ("/" is
// escaped, and so are the dots of "." and "..", which a path would otherwise resolve).
func pathSegment(value string) string {
	if value == "." || value == ".." {
		return strings.ReplaceAll(value, ".", "%2E")
	}
	return url.PathEscape(value)
}
