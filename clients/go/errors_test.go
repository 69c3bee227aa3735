package progimage_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	progimage "github.com/progimage/progimage/clients/go"
)

func TestAnUnknownIDIsNotFoundWithTheProblemDocument(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	_, err := client.Images.Get(ctx, missingID)
	apiErr := apiError(t, err, 404, progimage.CodeNotFound)
	if apiErr.Title == "" || apiErr.Detail == "" {
		t.Errorf("title %q, detail %q", apiErr.Title, apiErr.Detail)
	}
	if !errors.Is(err, progimage.ErrNotFound) || errors.Is(err, progimage.ErrInvalidParameter) {
		t.Error("the sentinels do not follow the code")
	}
	if !strings.Contains(err.Error(), "404 not_found") || !strings.Contains(err.Error(), apiErr.RequestID) {
		t.Errorf("message %q", err)
	}
	if apiErr.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("content type %q", apiErr.Header.Get("Content-Type"))
	}
	// A malformed id is not found either, and cannot escape the images route.
	for _, id := range []string{"not-an-id", "../healthz", "..", ""} {
		_, err := client.Images.Get(ctx, id)
		apiError(t, err, 404, progimage.CodeNotFound)
	}
}

// recordingTransport keeps the request ids a client sends.
type recordingTransport struct {
	mu  sync.Mutex
	ids []string
}

func (r *recordingTransport) RoundTrip(request *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.ids = append(r.ids, request.Header.Get("X-Request-Id"))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(request)
}

func TestTheRequestIDTheClientSendsComesBackInTheProblem(t *testing.T) {
	recorder := &recordingTransport{}
	client := shared.client(t, progimage.WithHTTPClient(&http.Client{Transport: recorder}))
	_, err := client.Jobs.Get(testContext(t), missingID)
	apiErr := apiError(t, err, 404, progimage.CodeNotFound)
	if len(recorder.ids) != 1 || apiErr.RequestID != recorder.ids[0] {
		t.Errorf("sent %v, the problem has %q", recorder.ids, apiErr.RequestID)
	}
}

func TestBadUploadsMapToTheirCodes(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	png := fixture(t, "images/sample.png")
	cases := []struct {
		name        string
		data        []byte
		contentType string
		status      int
		code        progimage.ErrorCode
		sentinel    error
	}{
		{"text", fixture(t, "hostile/not-an-image.txt"), "", 422, progimage.CodeInvalidImage, progimage.ErrInvalidImage},
		{"empty", nil, "image/png", 422, progimage.CodeInvalidImage, progimage.ErrInvalidImage},
		{"truncated", fixture(t, "hostile/truncated.png"), "image/png", 422, progimage.CodeInvalidImage, progimage.ErrInvalidImage},
		{"corrupted", fixture(t, "hostile/corrupted.png"), "image/png", 422, progimage.CodeInvalidImage, progimage.ErrInvalidImage},
		{"psd", fixture(t, "hostile/photoshop.psd"), "", 415, progimage.CodeUnsupportedMediaType, progimage.ErrUnsupportedMediaType},
		{"text/plain", png, "text/plain", 415, progimage.CodeUnsupportedMediaType, progimage.ErrUnsupportedMediaType},
		{"mismatch", png, "image/jpeg", 415, progimage.CodeMediaTypeMismatch, progimage.ErrMediaTypeMismatch},
		{"bomb", fixture(t, "hostile/bomb-60000x60000.png"), "", 422, progimage.CodeImageTooLarge, progimage.ErrImageTooLarge},
	}
	for _, c := range cases {
		_, err := client.Images.Upload(ctx, bytes.NewReader(c.data), &progimage.UploadOptions{ContentType: c.contentType})
		apiError(t, err, c.status, c.code)
		if !errors.Is(err, c.sentinel) {
			t.Errorf("%s: %v does not match its sentinel", c.name, err)
		}
	}
	_, err := client.Images.Upload(ctx, bytes.NewReader(png), &progimage.UploadOptions{Filename: "photo.jpg", ContentType: "image/png"})
	apiError(t, err, 415, progimage.CodeMediaTypeMismatch)
}

func TestInvalidParametersNameTheParameterAtFault(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	id := uploadPattern(t, client).ID

	_, err := client.Images.ListPage(ctx, &progimage.ListOptions{Limit: 5000})
	if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != "limit" {
		t.Errorf("param %q, want limit", apiErr.Param)
	}
	_, err = client.Images.Download(ctx, id, &progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Resize{Width: 20000}}})
	if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != "w" {
		t.Errorf("param %q, want w", apiErr.Param)
	}
	_, err = client.Images.Download(ctx, id, &progimage.Transform{Format: progimage.JPEG, Quality: 101})
	if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != "q" {
		t.Errorf("param %q, want q", apiErr.Param)
	}
	_, err = client.Images.Upload(ctx, bytes.NewReader(fixture(t, "images/sample.png")), &progimage.UploadOptions{Eager: []progimage.Format{"bogus"}})
	if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != "eager" {
		t.Errorf("param %q, want eager", apiErr.Param)
	}
	_, err = client.Images.Download(ctx, id, &progimage.Transform{Format: "xyz"})
	apiError(t, err, 404, progimage.CodeUnsupportedFormat)
	if !errors.Is(err, progimage.ErrUnsupportedFormat) {
		t.Error("not ErrUnsupportedFormat")
	}
}

func TestWithAPIKeysTenantsAreKeptApart(t *testing.T) {
	keyed := startServerT(t, map[string]string{
		"PROGIMAGE_API_KEYS":         "acme:key-acme,globex:key-globex",
		"PROGIMAGE_WEBHOOK_SECRET":   masterSecret,
		"PROGIMAGE_MAX_UPLOAD_BYTES": "1000",
	})
	ctx := testContext(t)
	for _, client := range []*progimage.Client{keyed.client(t), keyed.client(t, progimage.WithAPIKey("key-nobody"))} {
		_, err := client.Images.ListPage(ctx, nil)
		apiErr := apiError(t, err, 401, progimage.CodeUnauthorized)
		if got := apiErr.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Errorf("WWW-Authenticate %q", got)
		}
		if !errors.Is(err, progimage.ErrUnauthorized) {
			t.Error("not ErrUnauthorized")
		}
	}

	acme := keyed.client(t, progimage.WithAPIKey("key-acme"))
	globex := keyed.client(t, progimage.WithAPIKey("key-globex"))
	small := fixture(t, "images/pattern.gif")
	if len(small) > 1000 {
		t.Fatalf("pattern.gif is %d bytes, over the server's limit", len(small))
	}
	image, err := acme.Images.Upload(ctx, bytes.NewReader(small), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := acme.Images.Get(ctx, image.ID); err != nil || got.ID != image.ID {
		t.Errorf("acme's own image: %v, %v", got, err)
	}
	_, err = globex.Images.Get(ctx, image.ID)
	apiError(t, err, 404, progimage.CodeNotFound)
	apiError(t, globex.Images.Delete(ctx, image.ID), 404, progimage.CodeNotFound)
	if page, err := globex.Images.ListPage(ctx, nil); err != nil || len(page.Images) != 0 {
		t.Errorf("globex lists %v, %v", page, err)
	}
	// Images are private in keyed mode.
	download := mustDownload(t, acme, image.ID, nil)
	readAll(t, download)
	if got := download.Header.Get("Cache-Control"); !strings.HasPrefix(got, "private") {
		t.Errorf("Cache-Control %q in keyed mode", got)
	}

	// Each tenant signs with HMAC-SHA256(master, tenant name) in lowercase hex.
	for tenant, client := range map[string]*progimage.Client{"acme": acme, "globex": globex} {
		secret, err := client.WebhookSecret(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, []byte(masterSecret))
		mac.Write([]byte(tenant))
		if want := hex.EncodeToString(mac.Sum(nil)); secret != want {
			t.Errorf("%s's secret %q, want %q", tenant, secret, want)
		}
	}

	_, err = acme.Images.Upload(ctx, bytes.NewReader(fixture(t, "images/sample.png")), nil)
	apiError(t, err, 413, progimage.CodePayloadTooLarge)
	if !errors.Is(err, progimage.ErrPayloadTooLarge) {
		t.Error("not ErrPayloadTooLarge")
	}
}

func TestOpenModeSignsWithTheMasterSecret(t *testing.T) {
	secret, err := shared.client(t).WebhookSecret(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if secret != masterSecret {
		t.Errorf("secret %q, want the master", secret)
	}
}

func TestNoAnswerIsAConnectionErrorNotAnAPIError(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + listener.Addr().String()
	listener.Close()
	client, err := progimage.New(closed, progimage.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Images.Get(context.Background(), missingID)
	var apiErr *progimage.APIError
	var opErr *net.OpError
	if err == nil || errors.As(err, &apiErr) || !errors.As(err, &opErr) {
		t.Errorf("a closed port gave %v (%T)", err, err)
	}

	// A server that accepts and never answers: the attempt's timeout ends the call.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			connection, err := silent.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- connection
		}
	}()
	defer func() {
		silent.Close()
		for connection := range accepted {
			connection.Close()
		}
	}()
	slow, err := progimage.New("http://"+silent.Addr().String(), progimage.WithTimeout(200*time.Millisecond), progimage.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	_, err = slow.Images.Get(context.Background(), missingID)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a silent server gave %v", err)
	}
	if took := time.Since(started); took > 5*time.Second {
		t.Errorf("the timeout took %v", took)
	}
}

func TestNewRefusesABaseURLThatIsNotAnHTTPRoot(t *testing.T) {
	for _, base := range []string{"", "localhost:8080", "ftp://example.com", "http://example.com/?x=1", "http://"} {
		if _, err := progimage.New(base); err == nil {
			t.Errorf("New(%q) succeeded", base)
		}
	}
	client, err := progimage.New("http://example.com/prefix/")
	if err != nil || client.BaseURL() != "http://example.com/prefix" {
		t.Errorf("BaseURL %v, %v", client, err)
	}
}
