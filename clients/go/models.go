package progimage

import (
	"encoding/json"
	"time"
)

// Format is an image format name, as a format value and an image path's extension.
type Format string

// The formats the service takes on upload and offers on download.
const (
	// JPEG is image/jpeg ("jpg" is accepted as an alias).
	JPEG Format = "jpeg"
	// PNG is image/png.
	PNG Format = "png"
	// WebP is image/webp.
	WebP Format = "webp"
	// GIF is image/gif.
	GIF Format = "gif"
	// AVIF is image/avif.
	AVIF Format = "avif"
	// TIFF is image/tiff ("tif" is accepted as an alias).
	TIFF Format = "tiff"
	// BMP is image/bmp.
	BMP Format = "bmp"
	// SVG is image/svg+xml.
	SVG Format = "svg"
)

// Image is a stored image, as GET /v1/images/{id}/metadata describes it.
type Image struct {
	// ID is a UUIDv7, lowercase and hyphenated.
	ID string `json:"id"`
	// URL is the path of the original bytes, "/v1/images/{id}".
	URL string `json:"url"`
	// Format is the stored original's format.
	Format Format `json:"format"`
	// ContentType is the original's content type.
	ContentType string `json:"content_type"`
	// Width is the width as displayed, after EXIF orientation.
	Width int `json:"width"`
	// Height is the height as displayed, after EXIF orientation.
	Height int `json:"height"`
	// Bytes is the size of the original.
	Bytes int64 `json:"bytes"`
	// SHA256 is the lowercase hex SHA-256 of the original.
	SHA256 string `json:"sha256"`
	// Filename is the name it was stored under, or "" when it has none.
	Filename string `json:"filename"`
	// CreatedAt is when it was stored.
	CreatedAt time.Time `json:"created_at"`
	// SourceImageID is, for a job output, the image it was made from ("" otherwise, and for
	// URL sources).
	SourceImageID string `json:"source_image_id"`
	// JobID is, for a job output, the job that made it ("" otherwise).
	JobID string `json:"job_id"`
}

// ImagePage is one page of GET /v1/images, newest first.
type ImagePage struct {
	// Images are the images of this page.
	Images []Image `json:"images"`
	// NextCursor is the cursor of the next page, or "" on the last.
	NextCursor string `json:"next_cursor"`
}

// UploadResult is the outcome of one file of a multipart upload: Image when it was stored,
// else Problem says why it was refused.
type UploadResult struct {
	// Image is the stored image, or nil.
	Image *Image `json:"image"`
	// Problem is why the file was refused, or nil.
	Problem *Problem `json:"error"`
}

// JobStatus is where a job stands.
type JobStatus string

// The job statuses; the last four are terminal.
const (
	// JobQueued: no item has started.
	JobQueued JobStatus = "queued"
	// JobRunning: items are being processed.
	JobRunning JobStatus = "running"
	// JobSucceeded: every item succeeded.
	JobSucceeded JobStatus = "succeeded"
	// JobFailed: every item failed.
	JobFailed JobStatus = "failed"
	// JobCompletedWithErrors: some items succeeded, others failed or were cancelled.
	JobCompletedWithErrors JobStatus = "completed_with_errors"
	// JobCancelled: the job was cancelled and at least one item with it.
	JobCancelled JobStatus = "cancelled"
)

// Terminal reports whether a job in this status has ended and will not change again.
func (s JobStatus) Terminal() bool {
	switch s {
	case JobSucceeded, JobFailed, JobCompletedWithErrors, JobCancelled:
		return true
	}
	return false
}

// ItemStatus is where one item of a job stands.
type ItemStatus string

// The item statuses.
const (
	// ItemQueued: waiting for a worker.
	ItemQueued ItemStatus = "queued"
	// ItemRunning: being processed.
	ItemRunning ItemStatus = "running"
	// ItemSucceeded: its output is stored (JobItem.Image).
	ItemSucceeded ItemStatus = "succeeded"
	// ItemFailed: see JobItem.Problem.
	ItemFailed ItemStatus = "failed"
	// ItemCancelled: cancelled before it ran.
	ItemCancelled ItemStatus = "cancelled"
)

// Job is a bulk job, as GET /v1/jobs/{id} describes it. Listings leave Items empty.
type Job struct {
	// ID is a UUIDv7.
	ID string `json:"id"`
	// URL is the job's path, "/v1/jobs/{id}".
	URL string `json:"url"`
	// Status is where the job stands.
	Status JobStatus `json:"status"`
	// Total is how many items were submitted.
	Total int `json:"total"`
	// Succeeded is how many items have a stored output.
	Succeeded int `json:"succeeded"`
	// Failed is how many items failed.
	Failed int `json:"failed"`
	// Cancelled is how many items were cancelled before they ran.
	Cancelled int `json:"cancelled"`
	// Items are every item in submission order (empty in listings).
	Items []JobItem `json:"items"`
	// Metadata is the JSON given at submission, as given.
	Metadata json.RawMessage `json:"metadata"`
	// Webhook is the delivery state of the job's webhook, or nil when it has none.
	Webhook *JobWebhook `json:"webhook"`
	// CreatedAt is when the job was submitted.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when the job last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// FinishedAt is when the job ended, or nil while it runs.
	FinishedAt *time.Time `json:"finished_at"`
}

// Done returns how many items have ended, one way or another.
func (j *Job) Done() int { return j.Succeeded + j.Failed + j.Cancelled }

// JobItem is the outcome of one item of a job.
type JobItem struct {
	// Index is the item's 0-based position in the submitted items.
	Index int `json:"index"`
	// Status is where the item stands.
	Status ItemStatus `json:"status"`
	// Image is the stored output once the item succeeded, else nil.
	Image *Image `json:"image"`
	// Problem is why the item failed, else nil.
	Problem *Problem `json:"error"`
}

// JobWebhook is where a job's webhook goes and how its delivery went.
type JobWebhook struct {
	// URL is where the finished job is posted.
	URL string `json:"url"`
	// Attempts is how many deliveries were tried.
	Attempts int `json:"attempts"`
	// DeliveredAt is when a delivery got a 2xx, or nil.
	DeliveredAt *time.Time `json:"delivered_at"`
	// LastStatus is the HTTP status of the last attempt, or 0 when it had no answer.
	LastStatus int `json:"last_status"`
}

// JobAccepted is the answer to a job submission: the new job (202), or the job an
// Idempotency-Key already named (200, Status as it is now).
type JobAccepted struct {
	// ID is the job's id.
	ID string `json:"id"`
	// Status is "queued" for a new job.
	Status JobStatus `json:"status"`
	// URL is the job's path, "/v1/jobs/{id}".
	URL string `json:"url"`
	// Total is how many items were submitted.
	Total int `json:"total"`
}

// JobPage is one page of GET /v1/jobs, newest first; its jobs carry no items.
type JobPage struct {
	// Jobs are the jobs of this page.
	Jobs []Job `json:"jobs"`
	// NextCursor is the cursor of the next page, or "" on the last.
	NextCursor string `json:"next_cursor"`
}
