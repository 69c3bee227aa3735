package progimage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	progimage "github.com/progimage/progimage/clients/go"
)

const tolerance = 300 * time.Second

// The Rust client's vectors (clients/rust/tests/it/webhooks.rs), computed independently
// with Python's hmac: secret, timestamp, body, hex MAC.
var rustVectors = []struct {
	secret    string
	timestamp int64
	body      string
	mac       string
}{
	{"whsec_test", 1_700_000_000, `{"id":"job"}`, "efaabbdc3f13d4ef4c66646bc55b20549c774be986532e72dfc433e26946a21d"},
	{"", 0, "", "b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3"},
	{"k", -5, "x", "bb37629728762e2c6ee7834ab2032390a78036f097a83c7e352a333cc28f5c2a"},
	{"cl\u00e9", 1, "\u00fcn\u00ef", "80e64049d7373bd8df5bb184da83471484389240a6a1fa8afcf7ce3b3f394f5b"},
}

// The Python SDK's vector (clients/python/tests/test_webhooks.py), from openssl dgst.
const (
	pythonBody = `{"id":"01890a5d-ac96-774b-bcce-b302099a8057","status":"succeeded","total":1,` +
		`"succeeded":1,"failed":0,"cancelled":0,"items":[{"index":0,"status":"succeeded",` +
		`"image":null,"error":null}],"metadata":{"order":42},"webhook":{"url":` +
		`"https://client.example/hooks","attempts":1,"delivered_at":null,"last_status":null},` +
		`"created_at":"2023-11-14T22:13:20Z","updated_at":"2023-11-14T22:13:21.123456789Z",` +
		`"finished_at":"2023-11-14T22:13:21Z"}`
	pythonSecret    = "whsec-example"
	pythonTimestamp = 1700000000
	pythonGood      = "1bf87f9dd35821f715f1fd8d03a081f0a90ef1b2b99b8914826867bc4f8008ec"
	// pythonOther is the same body signed with "other-secret".
	pythonOther = "aa655eacc0eda2990b667034d3515306117e1056393f86ffb7e036b179d88ccb"
)

func TestSignaturesMatchTheKnownVectors(t *testing.T) {
	for _, v := range rustVectors {
		header := fmt.Sprintf("t=%d,v1=%s", v.timestamp, v.mac)
		if got := progimage.SignWebhook(v.secret, v.timestamp, []byte(v.body)); got != header {
			t.Errorf("SignWebhook(%q, %d, %q) = %s, want %s", v.secret, v.timestamp, v.body, got, header)
		}
		if err := progimage.VerifyWebhook(v.secret, header, []byte(v.body), time.Unix(v.timestamp, 0), tolerance); err != nil {
			t.Errorf("vector %q: %v", v.secret, err)
		}
	}
	header := fmt.Sprintf("t=%d,v1=%s", pythonTimestamp, pythonGood)
	if got := progimage.SignWebhook(pythonSecret, pythonTimestamp, []byte(pythonBody)); got != header {
		t.Errorf("the Python vector signs as %s", got)
	}
	if err := progimage.VerifyWebhook(pythonSecret, header, []byte(pythonBody), time.Unix(pythonTimestamp+5, 0), tolerance); err != nil {
		t.Error(err)
	}
	if err := progimage.VerifyWebhook("other-secret", "t=1700000000,v1="+pythonOther, []byte(pythonBody), time.Unix(pythonTimestamp, 0), tolerance); err != nil {
		t.Errorf("the other-secret vector: %v", err)
	}
	// The signed body is the Job a receiver decodes.
	var job progimage.Job
	if err := json.Unmarshal([]byte(pythonBody), &job); err != nil {
		t.Fatal(err)
	}
	if job.Status != progimage.JobSucceeded || job.Items[0].Status != progimage.ItemSucceeded || job.Webhook.Attempts != 1 ||
		job.UpdatedAt.Nanosecond() != 123456789 || string(job.Metadata) != `{"order":42}` {
		t.Errorf("decoded %+v", job)
	}
}

func TestVerificationRefusesWhatItMust(t *testing.T) {
	v := rustVectors[0]
	body := []byte(v.body)
	verify := func(header string, now int64) error {
		return progimage.VerifyWebhook(v.secret, header, body, time.Unix(now, 0), tolerance)
	}
	good := fmt.Sprintf("t=%d,v1=%s", v.timestamp, v.mac)
	cases := []struct {
		name   string
		err    error
		actual error
	}{
		// The tolerance holds either side of now, inclusive.
		{"300 s later", nil, verify(good, v.timestamp+300)},
		{"300 s earlier", nil, verify(good, v.timestamp-300)},
		{"301 s later", progimage.ErrWebhookOutsideTolerance, verify(good, v.timestamp+301)},
		{"301 s earlier", progimage.ErrWebhookOutsideTolerance, verify(good, v.timestamp-301)},
		{"a wider tolerance", nil, progimage.VerifyWebhook(v.secret, good, body, time.Unix(v.timestamp+3600, 0), time.Hour)},
		{"a negative tolerance", progimage.ErrWebhookOutsideTolerance, progimage.VerifyWebhook(v.secret, good, body, time.Unix(v.timestamp+1, 0), -time.Hour)},
		// Another body, secret or timestamp does not match.
		{"another body", progimage.ErrWebhookMismatch, progimage.VerifyWebhook(v.secret, good, []byte("{}"), time.Unix(v.timestamp, 0), tolerance)},
		{"another secret", progimage.ErrWebhookMismatch, progimage.VerifyWebhook("other", good, body, time.Unix(v.timestamp, 0), tolerance)},
		{"another timestamp", progimage.ErrWebhookMismatch, verify(fmt.Sprintf("t=%d,v1=%s", v.timestamp+1, v.mac), v.timestamp)},
		// Truncated or non-hex signatures never match.
		{"truncated", progimage.ErrWebhookMismatch, verify(fmt.Sprintf("t=%d,v1=%s", v.timestamp, v.mac[:62]), v.timestamp)},
		{"not hex", progimage.ErrWebhookMismatch, verify(fmt.Sprintf("t=%d,v1=zz", v.timestamp), v.timestamp)},
		{"empty v1", progimage.ErrWebhookMismatch, verify(fmt.Sprintf("t=%d,v1=", v.timestamp), v.timestamp)},
		// One matching value among several is enough (secret rotation); unknown schemes and
		// spaces around elements are skipped, hex may be uppercase.
		{"rotation", nil, verify(fmt.Sprintf("t=%d,v1=00,v2=abc,v1=%s", v.timestamp, v.mac), v.timestamp)},
		{"spaces", nil, verify(fmt.Sprintf("t=%d, v0=deadbeef, v1=%s", v.timestamp, strings.ToUpper(v.mac)), v.timestamp)},
		// The timestamp is signed in its canonical decimal form.
		{"plus sign", nil, verify(fmt.Sprintf("t=+%d,v1=%s", v.timestamp, v.mac), v.timestamp)},
		// Malformed headers.
		{"empty", progimage.ErrWebhookMalformed, verify("", v.timestamp)},
		{"garbage", progimage.ErrWebhookMalformed, verify("garbage", v.timestamp)},
		{"no t", progimage.ErrWebhookMalformed, verify("v1=abc", v.timestamp)},
		{"no v1", progimage.ErrWebhookMalformed, verify(fmt.Sprintf("t=%d", v.timestamp), v.timestamp)},
		{"t not a number", progimage.ErrWebhookMalformed, verify("t=x,v1=ab", v.timestamp)},
		{"two t", progimage.ErrWebhookMalformed, verify(fmt.Sprintf("t=%d,t=%d,v1=%s", v.timestamp, v.timestamp, v.mac), v.timestamp)},
		{"an element without =", progimage.ErrWebhookMalformed, verify(good+",extra", v.timestamp)},
	}
	for _, c := range cases {
		if !errors.Is(c.actual, c.err) || (c.err == nil) != (c.actual == nil) {
			t.Errorf("%s: got %v, want %v", c.name, c.actual, c.err)
		}
	}
}

// delivery is one webhook the receiver got.
type delivery struct {
	header http.Header
	body   []byte
}

func TestAFinishedJobIsDeliveredSignedWithTheTenantsSecret(t *testing.T) {
	deliveries := make(chan delivery, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPost || r.URL.Path != "/hooks/progimage" {
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		deliveries <- delivery{r.Header.Clone(), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	keyed := startServerT(t, map[string]string{
		"PROGIMAGE_API_KEYS":       "acme:key-acme,globex:key-globex",
		"PROGIMAGE_WEBHOOK_SECRET": masterSecret,
		"PROGIMAGE_ALLOW_URLS":     "127.0.0.1",
	})
	ctx := testContext(t)
	acme := keyed.client(t, progimage.WithAPIKey("key-acme"))
	globex := keyed.client(t, progimage.WithAPIKey("key-globex"))
	source, err := acme.Images.Upload(ctx, bytes.NewReader(fixture(t, "images/pattern.png")), nil)
	if err != nil {
		t.Fatal(err)
	}
	accepted, err := acme.Jobs.Submit(ctx, &progimage.JobRequest{
		Items:      []progimage.JobItemRequest{{ImageID: source.ID}},
		Transform:  progimage.Transform{Format: progimage.WebP},
		WebhookURL: receiver.URL + "/hooks/progimage",
		Metadata:   map[string]string{"order": "h\u00e9llo"},
	})
	if err != nil {
		t.Fatal(err)
	}

	var got delivery
	select {
	case got = <-deliveries:
	case <-ctx.Done():
		t.Fatal("no webhook arrived")
	}
	if event := got.header.Get(progimage.EventHeader); event != progimage.EventJobFinished {
		t.Errorf("event %q", event)
	}
	if id := got.header.Get(progimage.DeliveryHeader); id != accepted.ID+":1" {
		t.Errorf("delivery %q, want %s:1", id, accepted.ID)
	}
	if length := got.header.Get("Content-Length"); length != fmt.Sprint(len(got.body)) {
		t.Errorf("Content-Length %q for %d bytes", length, len(got.body))
	}
	signature := got.header.Get(progimage.SignatureHeader)
	secret, err := acme.WebhookSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := progimage.VerifyWebhook(secret, signature, got.body, time.Now(), progimage.DefaultWebhookTolerance); err != nil {
		t.Fatalf("the delivery does not verify with acme's secret: %v (%s)", err, signature)
	}
	other, err := globex.WebhookSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := progimage.VerifyWebhook(other, signature, got.body, time.Now(), progimage.DefaultWebhookTolerance); !errors.Is(err, progimage.ErrWebhookMismatch) {
		t.Errorf("globex's secret: %v", err)
	}
	if err := progimage.VerifyWebhook(masterSecret, signature, got.body, time.Now(), progimage.DefaultWebhookTolerance); !errors.Is(err, progimage.ErrWebhookMismatch) {
		t.Errorf("the master secret: %v", err)
	}
	tampered := bytes.Replace(got.body, []byte("succeeded"), []byte("failed"), 1)
	if err := progimage.VerifyWebhook(secret, signature, tampered, time.Now(), progimage.DefaultWebhookTolerance); !errors.Is(err, progimage.ErrWebhookMismatch) {
		t.Errorf("a tampered body: %v", err)
	}

	var job progimage.Job
	if err := json.Unmarshal(got.body, &job); err != nil {
		t.Fatal(err)
	}
	if job.ID != accepted.ID || job.Status != progimage.JobSucceeded || len(job.Items) != 1 || job.Items[0].Image == nil ||
		job.Items[0].Image.Format != progimage.WebP || job.FinishedAt == nil {
		t.Errorf("delivered job %s", got.body)
	}
	var metadata map[string]string
	if err := json.Unmarshal(job.Metadata, &metadata); err != nil || metadata["order"] != "h\u00e9llo" {
		t.Errorf("metadata %s (%v)", job.Metadata, err)
	}
	if job.Webhook == nil || job.Webhook.URL != receiver.URL+"/hooks/progimage" {
		t.Errorf("webhook %+v", job.Webhook)
	}

	// Once delivered, the job records it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		current, err := acme.Jobs.Get(ctx, accepted.ID)
		if err != nil {
			t.Fatal(err)
		}
		if current.Webhook != nil && current.Webhook.DeliveredAt != nil {
			if current.Webhook.Attempts != 1 || current.Webhook.LastStatus != http.StatusNoContent {
				t.Errorf("webhook state %+v", current.Webhook)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery was not recorded: %+v", current.Webhook)
		}
		// The service records the answer after the receiver has sent it.
		time.Sleep(20 * time.Millisecond)
	}
}
