package progimage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ImagesService is the caller's tenant's stored images: /v1/images.
type ImagesService struct {
	client *Client
}

// UploadOptions are the options of ImagesService.Upload.
type UploadOptions struct {
	// Filename is stored with the image and sent as ?filename=. An extension that names a
	// format must agree with ContentType and the bytes (else 415 media_type_mismatch).
	Filename string
	// ContentType is the image's type; "" sends application/octet-stream, so the bytes (and
	// the filename's extension, if any) decide.
	ContentType string
	// Eager lists formats whose plain {id}.{format} variants are converted in the background
	// right away.
	Eager []Format
}

// Upload stores one image read from r, sent as the raw body (POST /v1/images) and streamed:
// it is not held in memory. The body's length is sent when r tells it (a *bytes.Reader,
// *strings.Reader, regular *os.File or any io.Seeker), else it goes chunked.
//
// The request carries "Expect: 100-continue", so a refusal the service makes from the
// headers alone (415, a bad eager, 401, 413 from the length) arrives before the body is
// sent (with an http.Transport whose ExpectContinueTimeout is set, as the default's is).
// An upload is never retried after a 503 or a failure with no answer (the image may have
// been stored); after a 429 it is, when r is an io.Seeker to rewind. Upload never closes r.
func (s *ImagesService) Upload(ctx context.Context, r io.Reader, opts *UploadOptions) (*Image, error) {
	if opts == nil {
		opts = &UploadOptions{}
	}
	var query []keyValue
	if opts.Filename != "" {
		query = append(query, str("filename", opts.Filename))
	}
	if len(opts.Eager) > 0 {
		query = append(query, str("eager", joinFormats(opts.Eager)))
	}
	contentType := opts.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	body := readerBody(r)
	defer body.release()
	req := &request{
		method:         http.MethodPost,
		path:           "/v1/images",
		query:          query,
		header:         http.Header{"Content-Type": {contentType}},
		body:           body.open,
		replayable:     body.replayable,
		expectContinue: true,
		contentLength:  body.length,
	}
	var image Image
	if err := s.client.doJSON(ctx, req, &image); err != nil {
		return nil, err
	}
	return &image, nil
}

// UploadFile is one file of ImagesService.UploadMany.
type UploadFile struct {
	// Reader is read to the end for the file's bytes (and not closed).
	Reader io.Reader
	// Filename is the part's filename, stored with the image; "" sends none.
	Filename string
	// ContentType is the part's Content-Type; "" sends none, and the bytes decide.
	ContentType string
}

// UploadManyOptions are the options of ImagesService.UploadMany.
type UploadManyOptions struct {
	// Eager lists formats converted in the background for every stored image.
	Eager []Format
}

// UploadMany stores up to 100 images in one multipart/form-data request (POST /v1/images),
// streamed through a pipe as the files are read. It returns one result per file, in order:
// the stored image, or the problem that refused that file, which does not stop the others.
// Errors that refuse the whole request (a bad eager format, over the byte limit...) are
// returned as the error. Like Upload, it is retried only after a 429, and only when every
// Reader is an io.Seeker.
func (s *ImagesService) UploadMany(ctx context.Context, files []UploadFile, opts *UploadManyOptions) ([]UploadResult, error) {
	if opts == nil {
		opts = &UploadManyOptions{}
	}
	for i, file := range files {
		if strings.ContainsAny(file.ContentType, "\r\n") {
			return nil, fmt.Errorf("progimage: files[%d]: a content type cannot span lines", i)
		}
	}
	var query []keyValue
	if len(opts.Eager) > 0 {
		query = append(query, str("eager", joinFormats(opts.Eager)))
	}
	body := multipartBody(files)
	defer body.release()
	req := &request{
		method:         http.MethodPost,
		path:           "/v1/images",
		query:          query,
		header:         http.Header{"Content-Type": {"multipart/form-data; boundary=" + body.boundary}},
		body:           body.open,
		replayable:     body.replayable,
		expectContinue: true,
		contentLength:  -1,
	}
	var answer struct {
		Items []UploadResult `json:"items"`
	}
	if err := s.client.doJSON(ctx, req, &answer); err != nil {
		return nil, err
	}
	return answer.Items, nil
}

// UploadFromURLOptions are the options of ImagesService.UploadFromURL.
type UploadFromURLOptions struct {
	// Filename is stored with the image; "" takes the URL's last path segment.
	Filename string
}

// UploadFromURL has the service fetch an image and store it (POST /v1/images with a JSON
// body). The URL must pass the service's SSRF rules (else 400 url_not_allowed, Param
// "url"); a fetch that fails is 422 fetch_failed. The bytes decide the format.
func (s *ImagesService) UploadFromURL(ctx context.Context, sourceURL string, opts *UploadFromURLOptions) (*Image, error) {
	fields := map[string]string{"url": sourceURL}
	if opts != nil && opts.Filename != "" {
		fields["filename"] = opts.Filename
	}
	body, length, err := jsonBody(fields)
	if err != nil {
		return nil, err
	}
	req := &request{
		method:        http.MethodPost,
		path:          "/v1/images",
		header:        http.Header{"Content-Type": {"application/json"}},
		body:          body,
		replayable:    true,
		contentLength: length,
	}
	var image Image
	if err := s.client.doJSON(ctx, req, &image); err != nil {
		return nil, err
	}
	return &image, nil
}

// Get returns an image's metadata (GET /v1/images/{id}/metadata).
func (s *ImagesService) Get(ctx context.Context, id string) (*Image, error) {
	var image Image
	req := &request{method: http.MethodGet, path: "/v1/images/" + pathSegment(id) + "/metadata", idempotent: true}
	if err := s.client.doJSON(ctx, req, &image); err != nil {
		return nil, err
	}
	return &image, nil
}

// Download is an image's bytes as the service streams them. Close Body when done.
type Download struct {
	// Body is the encoded image.
	Body io.ReadCloser
	// ContentType is the bytes' type ("image/webp").
	ContentType string
	// ContentLength is the length of Body, or -1 when unknown.
	ContentLength int64
	// ETag is the strong entity tag of the bytes.
	ETag string
	// Cache is the variant's x-progimage-cache header: "hit", "miss" or "bypass" ("" for
	// originals and stateless transforms).
	Cache string
	// Header is every response header.
	Header http.Header
}

func newDownload(answer *response) *Download {
	length := int64(-1)
	if value := answer.header.Get("Content-Length"); value != "" {
		if parsed, err := strconv.ParseInt(value, 10, 64); err == nil {
			length = parsed
		}
	}
	return &Download{
		Body:          answer.body,
		ContentType:   answer.header.Get("Content-Type"),
		ContentLength: length,
		ETag:          answer.header.Get("ETag"),
		Cache:         answer.header.Get("X-Progimage-Cache"),
		Header:        answer.header,
	}
}

// Download returns an image's bytes: with a nil or zero Transform the original, unchanged
// (GET /v1/images/{id}); else the variant {id}.{Format} made with the transform's steps
// and settings (GET /v1/images/{id}.{ext}), which needs a Format (ErrFormatRequired).
// The caller must close the Body.
func (s *ImagesService) Download(ctx context.Context, id string, t *Transform) (*Download, error) {
	path, query, err := variant(id, t)
	if err != nil {
		return nil, err
	}
	answer, err := s.client.do(ctx, &request{method: http.MethodGet, path: path, query: query, idempotent: true})
	if err != nil {
		return nil, err
	}
	return newDownload(answer), nil
}

// URL returns the absolute URL of the original (nil or zero Transform) or of a variant,
// for an <img src>, a CDN origin or another HTTP client. No request is made. The URL
// carries no credentials: with API keys configured it must be fetched with an
// Authorization header. Steps in the query form's fixed order (crop, resize, rotate, flip,
// grayscale, blur, sharpen, brightness, contrast, mask; each at most once) are written as
// its parameters (w=300&h=200), any other sequence as an ops pipeline.
func (s *ImagesService) URL(id string, t *Transform) (string, error) {
	path, query, err := variant(id, t)
	if err != nil {
		return "", err
	}
	return s.client.url(path, query), nil
}

// variant returns the path and query of an original or a variant.
func variant(id string, t *Transform) (string, []keyValue, error) {
	path := "/v1/images/" + pathSegment(id)
	if t == nil || t.Format == "" {
		if !t.empty() {
			return "", nil, ErrFormatRequired
		}
		return path, nil, nil
	}
	return path + "." + pathSegment(string(t.Format)), t.values(), nil
}

// Delete deletes an image, its original and every variant (DELETE /v1/images/{id}).
func (s *ImagesService) Delete(ctx context.Context, id string) error {
	return s.client.doJSON(ctx, &request{method: http.MethodDelete, path: "/v1/images/" + pathSegment(id), idempotent: true}, nil)
}

// ListOptions are the options of a listing.
type ListOptions struct {
	// Limit is the page size (1..1000); 0 is the service's default, 50.
	Limit int
	// Cursor starts after a page's NextCursor instead of at the newest.
	Cursor string
}

func (o *ListOptions) query() []keyValue {
	var query []keyValue
	if o == nil {
		return query
	}
	if o.Limit != 0 {
		query = append(query, integer("limit", o.Limit))
	}
	if o.Cursor != "" {
		query = append(query, str("cursor", o.Cursor))
	}
	return query
}

// ListPage returns one page of images, newest first (GET /v1/images?limit=&cursor=).
func (s *ImagesService) ListPage(ctx context.Context, opts *ListOptions) (*ImagePage, error) {
	var page ImagePage
	req := &request{method: http.MethodGet, path: "/v1/images", query: opts.query(), idempotent: true}
	if err := s.client.doJSON(ctx, req, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// List iterates over every image, newest first, fetching the next page when the current
// one is used up; Limit is the page size.
//
//	it := client.Images.List(ctx, nil)
//	for it.Next() {
//		fmt.Println(it.Image().ID)
//	}
//	if err := it.Err(); err != nil { ... }
func (s *ImagesService) List(ctx context.Context, opts *ListOptions) *ImageIterator {
	limit, cursor := 0, ""
	if opts != nil {
		limit, cursor = opts.Limit, opts.Cursor
	}
	return &ImageIterator{pager: pager[Image]{ctx: ctx, cursor: cursor, fetch: func(ctx context.Context, cursor string) ([]Image, string, error) {
		page, err := s.ListPage(ctx, &ListOptions{Limit: limit, Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return page.Images, page.NextCursor, nil
	}}}
}

// joinFormats writes formats comma-separated, as eager takes them.
func joinFormats(formats []Format) string {
	names := make([]string, len(formats))
	for i, format := range formats {
		names[i] = string(format)
	}
	return strings.Join(names, ",")
}
