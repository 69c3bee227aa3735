package progimage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrorCode is the stable, machine-readable code of a problem document ("not_found").
type ErrorCode string

// The problem codes the service answers with, as docs/api.md lists them.
const (
	// CodeInvalidParameter (400): a query parameter, JSON field or path value is wrong; Param names it.
	CodeInvalidParameter ErrorCode = "invalid_parameter"
	// CodeInvalidJSON (400): the body is not the JSON asked for.
	CodeInvalidJSON ErrorCode = "invalid_json"
	// CodeURLNotAllowed (400): a url or webhook_url that the SSRF rules refuse.
	CodeURLNotAllowed ErrorCode = "url_not_allowed"
	// CodeUnauthorized (401): a missing or unknown API key.
	CodeUnauthorized ErrorCode = "unauthorized"
	// CodeNotFound (404): an unknown id, or another tenant's.
	CodeNotFound ErrorCode = "not_found"
	// CodeUnsupportedFormat (404): an unknown extension in an image path.
	CodeUnsupportedFormat ErrorCode = "unsupported_format"
	// CodeMethodNotAllowed (405): the path does not take the method.
	CodeMethodNotAllowed ErrorCode = "method_not_allowed"
	// CodeIdempotencyConflict (409): the same Idempotency-Key with another body.
	CodeIdempotencyConflict ErrorCode = "idempotency_conflict"
	// CodePayloadTooLarge (413): over the byte limit of an upload or fetch.
	CodePayloadTooLarge ErrorCode = "payload_too_large"
	// CodeUnsupportedMediaType (415): a Content-Type or image format the service does not take.
	CodeUnsupportedMediaType ErrorCode = "unsupported_media_type"
	// CodeMediaTypeMismatch (415): Content-Type, filename extension and bytes disagree.
	CodeMediaTypeMismatch ErrorCode = "media_type_mismatch"
	// CodeRangeNotSatisfiable (416): a byte range outside the image.
	CodeRangeNotSatisfiable ErrorCode = "range_not_satisfiable"
	// CodeInvalidImage (422): empty, unrecognisable or undecodable bytes.
	CodeInvalidImage ErrorCode = "invalid_image"
	// CodeImageTooLarge (422): over the pixel or side limits, of the input, a step or the output.
	CodeImageTooLarge ErrorCode = "image_too_large"
	// CodeFetchFailed (422): a remote source was unreachable, non-2xx, too slow or redirected too often.
	CodeFetchFailed ErrorCode = "fetch_failed"
	// CodeInternal (500): a bug in the service; its logs have the details.
	CodeInternal ErrorCode = "internal"
	// CodeUnavailable (503): overloaded, or a dependency is down; comes with Retry-After.
	CodeUnavailable ErrorCode = "unavailable"
	// CodeMalformedRequest (400): a request that is not well-formed HTTP.
	CodeMalformedRequest ErrorCode = "malformed_request"
	// CodeURITooLong (414): a request line over the server's limit.
	CodeURITooLong ErrorCode = "uri_too_long"
	// CodeHeadersTooLarge (431): request headers over the server's limit.
	CodeHeadersTooLarge ErrorCode = "headers_too_large"
)

// Sentinel errors, one per problem code, for errors.Is:
//
//	if errors.Is(err, progimage.ErrNotFound) { ... }
//
// Any *APIError or *Problem whose Code is the sentinel's matches it.
var (
	// ErrInvalidParameter matches problems with code invalid_parameter.
	ErrInvalidParameter error = codeError(CodeInvalidParameter)
	// ErrInvalidJSON matches problems with code invalid_json.
	ErrInvalidJSON error = codeError(CodeInvalidJSON)
	// ErrURLNotAllowed matches problems with code url_not_allowed.
	ErrURLNotAllowed error = codeError(CodeURLNotAllowed)
	// ErrUnauthorized matches problems with code unauthorized.
	ErrUnauthorized error = codeError(CodeUnauthorized)
	// ErrNotFound matches problems with code not_found.
	ErrNotFound error = codeError(CodeNotFound)
	// ErrUnsupportedFormat matches problems with code unsupported_format.
	ErrUnsupportedFormat error = codeError(CodeUnsupportedFormat)
	// ErrMethodNotAllowed matches problems with code method_not_allowed.
	ErrMethodNotAllowed error = codeError(CodeMethodNotAllowed)
	// ErrIdempotencyConflict matches problems with code idempotency_conflict.
	ErrIdempotencyConflict error = codeError(CodeIdempotencyConflict)
	// ErrPayloadTooLarge matches problems with code payload_too_large.
	ErrPayloadTooLarge error = codeError(CodePayloadTooLarge)
	// ErrUnsupportedMediaType matches problems with code unsupported_media_type.
	ErrUnsupportedMediaType error = codeError(CodeUnsupportedMediaType)
	// ErrMediaTypeMismatch matches problems with code media_type_mismatch.
	ErrMediaTypeMismatch error = codeError(CodeMediaTypeMismatch)
	// ErrRangeNotSatisfiable matches problems with code range_not_satisfiable.
	ErrRangeNotSatisfiable error = codeError(CodeRangeNotSatisfiable)
	// ErrInvalidImage matches problems with code invalid_image.
	ErrInvalidImage error = codeError(CodeInvalidImage)
	// ErrImageTooLarge matches problems with code image_too_large.
	ErrImageTooLarge error = codeError(CodeImageTooLarge)
	// ErrFetchFailed matches problems with code fetch_failed.
	ErrFetchFailed error = codeError(CodeFetchFailed)
	// ErrInternal matches problems with code internal.
	ErrInternal error = codeError(CodeInternal)
	// ErrUnavailable matches problems with code unavailable.
	ErrUnavailable error = codeError(CodeUnavailable)
)

// codeError is the type of the sentinels: a code that is its own error value.
type codeError ErrorCode

// Error returns "progimage: <code>".
func (c codeError) Error() string { return "progimage: " + string(c) }

// Problem is an RFC 9457 problem document: the body of every error the service answers,
// and the error of a failed upload part or job item.
type Problem struct {
	// Type is "urn:progimage:problem:<code>".
	Type string `json:"type"`
	// Title is a short summary of the code.
	Title string `json:"title"`
	// Status equals the HTTP status.
	Status int `json:"status"`
	// Detail says what went wrong, for a human.
	Detail string `json:"detail"`
	// Code is the stable machine-readable code.
	Code ErrorCode `json:"code"`
	// RequestID equals the response's x-request-id, to find the request in the service's logs.
	RequestID string `json:"request_id"`
	// Param is the query parameter ("w", "ops"), JSON path ("operations[1].width") or header
	// at fault, when one is.
	Param string `json:"param,omitempty"`
	// UpstreamStatus is the remote's HTTP status of a fetch_failed, when it answered (else 0).
	UpstreamStatus int `json:"upstream_status,omitempty"`
}

// Error returns "progimage: <status> <code>: <detail> (param <p>, request <id>)".
func (p *Problem) Error() string {
	var text strings.Builder
	text.WriteString("progimage: ")
	if p.Status != 0 {
		fmt.Fprintf(&text, "%d ", p.Status)
	}
	if p.Code != "" {
		text.WriteString(string(p.Code))
	} else {
		text.WriteString(http.StatusText(p.Status))
	}
	if p.Detail != "" {
		text.WriteString(": ")
		text.WriteString(p.Detail)
	}
	var notes []string
	if p.Param != "" {
		notes = append(notes, "param "+p.Param)
	}
	if p.RequestID != "" {
		notes = append(notes, "request "+p.RequestID)
	}
	if len(notes) > 0 {
		fmt.Fprintf(&text, " (%s)", strings.Join(notes, ", "))
	}
	return text.String()
}

// Is reports whether target is the sentinel of the problem's code (ErrNotFound for not_found).
func (p *Problem) Is(target error) bool {
	code, ok := target.(codeError)
	return ok && p.Code != "" && ErrorCode(code) == p.Code
}

// APIError is the error of a call the service answered with a 4xx or 5xx status. It carries
// the problem document (its fields are promoted: err.Code, err.Status, err.Param...) and
// the response headers.
//
//	var apiErr *progimage.APIError
//	if errors.As(err, &apiErr) && apiErr.Code == progimage.CodeInvalidParameter {
//		log.Printf("bad %s: %s", apiErr.Param, apiErr.Detail)
//	}
type APIError struct {
	// Problem is the problem document; a body that was not one (a proxy's error page)
	// leaves Code empty, with an excerpt of the text as Detail.
	Problem
	// Header is the response's headers (Retry-After, Allow, WWW-Authenticate...).
	Header http.Header
	// RetryAfter is the wait Retry-After asked for, or 0 when the response had none.
	RetryAfter time.Duration
}

// Error describes the failure with its status, code, detail, parameter and request id.
func (e *APIError) Error() string { return e.Problem.Error() }

// Is reports whether target is the sentinel of the error's code.
func (e *APIError) Is(target error) bool { return e.Problem.Is(target) }

// Retryable reports whether the same request may succeed later: a 429 or any 5xx.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// maxProblemBytes bounds how much of an error body is read: problem documents are small,
// and a proxy's error page need not be read whole.
const maxProblemBytes = 64 << 10

// newAPIError builds the error of a response with a status of 400 or more from its body.
// A body that is not a problem document (a proxy's HTML page) leaves Code empty and keeps
// an excerpt of the text as Detail.
func newAPIError(status int, header http.Header, body []byte, now time.Time) *APIError {
	apiErr := &APIError{Header: header, RetryAfter: parseRetryAfter(header.Get("Retry-After"), now)}
	var problem Problem
	if err := json.Unmarshal(body, &problem); err == nil && problem.Code != "" {
		apiErr.Problem = problem
	} else {
		excerpt := strings.TrimSpace(string(body))
		if len(excerpt) > 200 {
			excerpt = excerpt[:200]
		}
		apiErr.Title = http.StatusText(status)
		apiErr.Detail = excerpt
	}
	// The HTTP status is the truth even if a body says otherwise (a proxy's rewrite).
	apiErr.Status = status
	if apiErr.RequestID == "" {
		apiErr.RequestID = header.Get("X-Request-Id")
	}
	return apiErr
}

// parseRetryAfter reads Retry-After as delta-seconds or an HTTP date; 0 when absent,
// unreadable or in the past.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if seconds, err := strconv.ParseUint(value, 10, 32); err == nil {
		return time.Duration(seconds) * time.Second
	}
	when, err := http.ParseTime(value)
	if err != nil || !when.After(now) {
		return 0
	}
	return when.Sub(now)
}
