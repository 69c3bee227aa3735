package progimage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// JobsService is the caller's tenant's bulk jobs: /v1/jobs.
type JobsService struct {
	client *Client
}

// JobRequest is a job submission. Its Transform (operations, format and output settings)
// is the default of every item; an item's own value replaces the job's, field by field,
// without merging. With no Format anywhere the outputs keep their sources' formats.
type JobRequest struct {
	// Items are the sources, 1..10000.
	Items []JobItemRequest
	// Transform holds the job-level defaults.
	Transform
	// WebhookURL receives the finished job, signed (see VerifyWebhook); "" for none.
	WebhookURL string
	// Metadata is any JSON value, returned with the job; nil sends none.
	Metadata interface{}
	// IdempotencyKey makes the submission safe to repeat: the same key and body give the
	// same job, another body 409 idempotency_conflict. "" uses a fresh random key per
	// call, so the client's own retries never create a second job.
	IdempotencyKey string
}

// JobItemRequest is one source of a job: exactly one of ImageID and URL, with settings of
// its own if any.
type JobItemRequest struct {
	// ImageID is a stored image of the caller's tenant.
	ImageID string
	// URL is a remote image for the service to fetch (the SSRF rules apply).
	URL string
	// Transform holds the item's own settings; unset fields take the job's.
	Transform
}

func (r *JobRequest) body() map[string]interface{} {
	fields := r.Transform.settingsJSON()
	items := make([]map[string]interface{}, len(r.Items))
	for i := range r.Items {
		item := r.Items[i].Transform.settingsJSON()
		if r.Items[i].ImageID != "" {
			item["image_id"] = r.Items[i].ImageID
		}
		if r.Items[i].URL != "" {
			item["url"] = r.Items[i].URL
		}
		items[i] = item
	}
	fields["items"] = items
	if r.WebhookURL != "" {
		fields["webhook_url"] = r.WebhookURL
	}
	if r.Metadata != nil {
		fields["metadata"] = r.Metadata
	}
	return fields
}

// Submit submits a job (POST /v1/jobs); it runs in the background. The answer is 202 with
// the queued job, or 200 with the job as it is now when the IdempotencyKey was used
// before with the same body. A submission that is wrong (no items, a bad step...) is a 400
// naming the JSON path at fault ("operations[0].sigma", "items[3].url").
func (s *JobsService) Submit(ctx context.Context, job *JobRequest) (*JobAccepted, error) {
	if job == nil {
		return nil, errors.New("progimage: Submit needs a JobRequest")
	}
	body, length, err := jsonBody(job.body())
	if err != nil {
		return nil, err
	}
	key := job.IdempotencyKey
	if key == "" {
		key = newRequestID()
	}
	req := &request{
		method:        http.MethodPost,
		path:          "/v1/jobs",
		header:        http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {key}},
		body:          body,
		replayable:    true,
		contentLength: length,
		// The Idempotency-Key makes a repeat return the first job.
		idempotent: true,
	}
	var accepted JobAccepted
	if err := s.client.doJSON(ctx, req, &accepted); err != nil {
		return nil, err
	}
	return &accepted, nil
}

// Get returns a job with its items (GET /v1/jobs/{id}).
func (s *JobsService) Get(ctx context.Context, id string) (*Job, error) {
	var job Job
	if err := s.client.doJSON(ctx, &request{method: http.MethodGet, path: "/v1/jobs/" + pathSegment(id), idempotent: true}, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// Cancel cancels a job (DELETE /v1/jobs/{id}) and returns it as it then is: queued items
// are cancelled at once, running ones finish and their outputs are kept; the job ends when
// they have. A finished job is returned unchanged.
func (s *JobsService) Cancel(ctx context.Context, id string) (*Job, error) {
	var job Job
	if err := s.client.doJSON(ctx, &request{method: http.MethodDelete, path: "/v1/jobs/" + pathSegment(id), idempotent: true}, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// JobListOptions are the options of JobsService.List.
type JobListOptions struct {
	// Status lists only jobs in this status; "" lists all.
	Status JobStatus
	// Limit is the page size (1..1000); 0 is the service's default, 50.
	Limit int
	// Cursor starts after a page's NextCursor instead of at the newest.
	Cursor string
}

// ListPage returns one page of jobs (without items), newest first
// (GET /v1/jobs?status=&limit=&cursor=).
func (s *JobsService) ListPage(ctx context.Context, opts *JobListOptions) (*JobPage, error) {
	var query []keyValue
	if opts != nil {
		if opts.Status != "" {
			query = append(query, str("status", string(opts.Status)))
		}
		query = append(query, (&ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}).query()...)
	}
	var page JobPage
	if err := s.client.doJSON(ctx, &request{method: http.MethodGet, path: "/v1/jobs", query: query, idempotent: true}, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// List iterates over every job (without items), newest first, fetching the next page when
// the current one is used up.
func (s *JobsService) List(ctx context.Context, opts *JobListOptions) *JobIterator {
	var options JobListOptions
	if opts != nil {
		options = *opts
	}
	return &JobIterator{pager: pager[Job]{ctx: ctx, cursor: options.Cursor, fetch: func(ctx context.Context, cursor string) ([]Job, string, error) {
		page := options
		page.Cursor = cursor
		answer, err := s.ListPage(ctx, &page)
		if err != nil {
			return nil, "", err
		}
		return answer.Jobs, answer.NextCursor, nil
	}}}
}

// WaitOptions are the options of Client.WaitForJob.
type WaitOptions struct {
	// PollInterval is the first delay between two polls (default 500 ms); each delay is
	// half as long again as the one before, up to MaxPollInterval.
	PollInterval time.Duration
	// MaxPollInterval caps the delay between polls (default 5 s).
	MaxPollInterval time.Duration
	// Timeout gives up after this long; 0 waits as long as the context allows.
	Timeout time.Duration
}

// WaitError is returned by Client.WaitForJob when the wait ended before the job did.
type WaitError struct {
	// Job is the job as last seen (nil when no poll succeeded).
	Job *Job
	// Err is why the wait ended: context.DeadlineExceeded (Timeout or the context's
	// deadline) or context.Canceled.
	Err error
}

// Error says which job was still unfinished, and why the wait ended.
func (e *WaitError) Error() string {
	if e.Job == nil {
		return fmt.Sprintf("progimage: waiting for a job: %v", e.Err)
	}
	return fmt.Sprintf("progimage: job %s still %s (%d/%d items done): %v", e.Job.ID, e.Job.Status, e.Job.Done(), e.Job.Total, e.Err)
}

// Unwrap returns Err, so errors.Is(err, context.DeadlineExceeded) holds after a timeout.
func (e *WaitError) Unwrap() error { return e.Err }

// WaitForJob polls a job (GET /v1/jobs/{id}) until its status is terminal and returns it,
// with its items. Polls start PollInterval apart and back off by half each time. When the
// context or Timeout ends first the error is a *WaitError with the job as last seen; an
// error of a poll (after the client's retries) is returned as it is.
func (c *Client) WaitForJob(ctx context.Context, id string, opts *WaitOptions) (*Job, error) {
	var options WaitOptions
	if opts != nil {
		options = *opts
	}
	if options.PollInterval <= 0 {
		options.PollInterval = 500 * time.Millisecond
	}
	if options.MaxPollInterval <= 0 {
		options.MaxPollInterval = 5 * time.Second
	}
	if options.MaxPollInterval < options.PollInterval {
		options.MaxPollInterval = options.PollInterval
	}
	if options.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, options.Timeout)
		defer cancel()
	}
	var last *Job
	interval := options.PollInterval
	for {
		job, err := c.Jobs.Get(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return nil, &WaitError{Job: last, Err: ctx.Err()}
			}
			return nil, err
		}
		if job.Status.Terminal() {
			return job, nil
		}
		last = job
		if err := c.sleep(ctx, interval); err != nil {
			return nil, &WaitError{Job: last, Err: err}
		}
		interval += interval / 2
		if interval > options.MaxPollInterval {
			interval = options.MaxPollInterval
		}
	}
}
