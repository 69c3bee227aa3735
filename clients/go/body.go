package progimage

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"sync"
)

// streamBody is a request body streamed from the caller's readers.
//
// net/http may go on reading a request body after the response has arrived (a 429 sent
// before the upload was read whole), in a goroutine of its own. For readers that can be
// rewound, a retry and the end of the call first stop that and wait for a read under way,
// so no two attempts read at once and nothing is read after the call returned.
type streamBody struct {
	// open returns the body of a new attempt, rewinding the readers for every attempt but
	// the first.
	open func() (io.Reader, error)
	// length is the body's length, or -1 when unknown.
	length int64
	// replayable tells whether open may be called more than once.
	replayable bool
	// boundary is a multipart body's boundary.
	boundary string
	// release ends the current attempt's reads; it is idempotent.
	release func()
}

// errBodyReleased ends the reads of an attempt that was given up.
var errBodyReleased = errors.New("progimage: the request body was released")

// guardedReader reads from r until it is closed, then refuses to; Close waits for a Read
// under way (only used for seekers, whose reads do not block).
type guardedReader struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
}

// Read reads from the caller's reader unless the body was released.
func (g *guardedReader) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, errBodyReleased
	}
	return g.r.Read(p)
}

// Close stops reads; the caller's reader itself is never closed.
func (g *guardedReader) Close() error {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	return nil
}

// readerBody makes a body of one reader: its length when r can tell it, and replayable
// when r is an io.Seeker, rewound to where it was at the start.
func readerBody(r io.Reader) *streamBody {
	length := int64(-1)
	if sized, ok := r.(interface{ Len() int }); ok {
		length = int64(sized.Len())
	} else if seeker, ok := r.(io.Seeker); ok {
		if start, err := seeker.Seek(0, io.SeekCurrent); err == nil {
			if end, err := seeker.Seek(0, io.SeekEnd); err == nil {
				if _, err := seeker.Seek(start, io.SeekStart); err == nil {
					length = end - start
				}
			}
		}
	}
	rewind, replayable := rewinder(r)
	if !replayable {
		// Sent once, so no attempt can overlap another. Waiting for the transport's last
		// read could hang on a reader that blocks (a pipe whose writer stalled), so the
		// reader is only hidden behind a plain io.Reader, which net/http cannot close.
		return &streamBody{
			open:    func() (io.Reader, error) { return struct{ io.Reader }{r}, nil },
			length:  length,
			release: func() {},
		}
	}
	var mu sync.Mutex
	var current *guardedReader
	release := func() {
		mu.Lock()
		defer mu.Unlock()
		if current != nil {
			current.Close()
		}
	}
	return &streamBody{
		open: func() (io.Reader, error) {
			mu.Lock()
			defer mu.Unlock()
			if current != nil {
				current.Close()
				if err := rewind(); err != nil {
					return nil, fmt.Errorf("progimage: rewinding an upload: %w", err)
				}
			}
			current = &guardedReader{r: r}
			return current, nil
		},
		length:     length,
		replayable: replayable,
		release:    release,
	}
}

// multipartBody makes a multipart/form-data body of files, one "file" part each, written
// into a pipe by a goroutine as the transport reads it. It is replayable when every
// reader is an io.Seeker.
func multipartBody(files []UploadFile) *streamBody {
	boundary := multipart.NewWriter(nil).Boundary()
	rewinds, replayable := make([]func() error, len(files)), true
	for i, file := range files {
		rewind, ok := rewinder(file.Reader)
		rewinds[i], replayable = rewind, replayable && ok
	}
	var mu sync.Mutex
	var pipe *io.PipeReader
	var written chan struct{}
	// stop closes the current attempt's pipe and, for seekers (files, buffers, whose reads
	// do not block), waits for its writer to return, which it does after at most one more
	// read. A reader that is not a seeker is sent once and may block, so it is not waited for.
	stop := func() {
		if pipe != nil {
			pipe.CloseWithError(errBodyReleased)
			if replayable {
				<-written
			}
		}
	}
	return &streamBody{
		open: func() (io.Reader, error) {
			mu.Lock()
			defer mu.Unlock()
			if pipe != nil {
				stop()
				for _, rewind := range rewinds {
					if err := rewind(); err != nil {
						return nil, fmt.Errorf("progimage: rewinding an upload: %w", err)
					}
				}
			}
			reader, writer := io.Pipe()
			pipe, written = reader, make(chan struct{})
			go func(done chan struct{}) {
				defer close(done)
				writeMultipart(writer, boundary, files)
			}(written)
			return reader, nil
		},
		length:     -1,
		replayable: replayable,
		boundary:   boundary,
		release: func() {
			mu.Lock()
			defer mu.Unlock()
			stop()
		},
	}
}

// rewinder returns a function that puts r back where it is now, when r is an io.Seeker
// that can tell its position.
func rewinder(r io.Reader) (func() error, bool) {
	seeker, ok := r.(io.Seeker)
	if !ok {
		return func() error { return nil }, false
	}
	start, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return func() error { return nil }, false
	}
	return func() error {
		_, err := seeker.Seek(start, io.SeekStart)
		return err
	}, true
}

// writeMultipart writes the form into the pipe; an error (a failed read, or the request
// given up, which closes the pipe's reader) ends it.
func writeMultipart(pipe *io.PipeWriter, boundary string, files []UploadFile) {
	form := multipart.NewWriter(pipe)
	if err := form.SetBoundary(boundary); err != nil {
		pipe.CloseWithError(err)
		return
	}
	for _, file := range files {
		header := textproto.MIMEHeader{}
		disposition := `form-data; name="file"`
		if file.Filename != "" {
			disposition += `; filename="` + escapeQuoted(file.Filename) + `"`
		}
		header.Set("Content-Disposition", disposition)
		if file.ContentType != "" {
			header.Set("Content-Type", file.ContentType)
		}
		part, err := form.CreatePart(header)
		if err != nil {
			pipe.CloseWithError(err)
			return
		}
		if _, err := io.Copy(part, file.Reader); err != nil {
			pipe.CloseWithError(err)
			return
		}
	}
	pipe.CloseWithError(form.Close())
}

// escapeQuoted escapes a filename for a quoted-string of a multipart header as browsers'
// forms do (WHATWG): '"' becomes %22, CR %0D and LF %0A.
func escapeQuoted(name string) string {
	return strings.NewReplacer(`"`, "%22", "\r", "%0D", "\n", "%0A").Replace(name)
}
