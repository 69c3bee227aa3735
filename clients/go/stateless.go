package progimage

import (
	"context"
	"io"
	"net/http"
)

// Source is what a stateless transform reads: bytes (ReaderSource), a remote URL
// (URLSource) or a stored image (ImageSource).
type Source struct {
	reader      io.Reader
	contentType string
	url         string
	imageID     string
}

// ReaderSource is image bytes read from r and streamed as the request body. contentType
// is their type; "" sends application/octet-stream and the bytes decide.
func ReaderSource(r io.Reader, contentType string) Source {
	return Source{reader: r, contentType: contentType}
}

// URLSource is a remote image the service fetches (the SSRF rules apply).
func URLSource(sourceURL string) Source { return Source{url: sourceURL} }

// ImageSource is a stored image of the caller's tenant.
func ImageSource(id string) Source { return Source{imageID: id} }

// Transform transforms an image without storing anything (POST /v1/transform) and returns
// the output; Format "" keeps the source's format. Bytes go as the raw body with the steps
// in the query (as ImagesService.URL writes them); URL and image sources go as JSON with
// the steps as operations, so a 400 names the parameter in the form that was sent ("w",
// "ops", "operations[1].width"). The caller must close the Body.
func (c *Client) Transform(ctx context.Context, source Source, t *Transform) (*Download, error) {
	var req *request
	if source.reader != nil {
		var query []keyValue
		if t != nil && t.Format != "" {
			query = append(query, str("format", string(t.Format)))
		}
		query = append(query, t.values()...)
		contentType := source.contentType
		if contentType == "" {
			contentType = "application/octet-stream"
		}
		body := readerBody(source.reader)
		defer body.release()
		req = &request{
			method:         http.MethodPost,
			path:           "/v1/transform",
			query:          query,
			header:         http.Header{"Content-Type": {contentType}},
			body:           body.open,
			replayable:     body.replayable,
			expectContinue: true,
			contentLength:  body.length,
			// Nothing is stored, so sending it twice does no harm.
			idempotent: true,
		}
	} else {
		fields := t.settingsJSON()
		if source.url != "" {
			fields["url"] = source.url
		} else {
			fields["image_id"] = source.imageID
		}
		body, length, err := jsonBody(fields)
		if err != nil {
			return nil, err
		}
		req = &request{
			method:        http.MethodPost,
			path:          "/v1/transform",
			header:        http.Header{"Content-Type": {"application/json"}},
			body:          body,
			replayable:    true,
			contentLength: length,
			idempotent:    true,
		}
	}
	answer, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	return newDownload(answer), nil
}
