package progimage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	progimage "github.com/progimage/progimage/clients/go"
)

// fastWait polls often, so tests end soon after their jobs.
var fastWait = &progimage.WaitOptions{PollInterval: 20 * time.Millisecond, MaxPollInterval: 200 * time.Millisecond, Timeout: 60 * time.Second}

func TestAJobTransformsEveryItemIntoANewStoredImage(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	first, second := uploadPattern(t, client), uploadPattern(t, client)
	accepted, err := client.Jobs.Submit(ctx, &progimage.JobRequest{
		Items: []progimage.JobItemRequest{
			{ImageID: first.ID},
			// The item's own settings replace the job's: PNG and 16 wide, not grayscale.
			{ImageID: second.ID, Transform: progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Resize{Width: 16}}}},
		},
		Transform: progimage.Transform{
			Operations: []progimage.Operation{progimage.Resize{Width: 32}, progimage.Grayscale{}},
			Format:     progimage.JPEG,
			Quality:    80,
		},
		Metadata: map[string]interface{}{"batch": 7},
	})
	if err != nil {
		t.Fatal(err)
	}
	if accepted.Status != progimage.JobQueued || accepted.Total != 2 || accepted.URL != "/v1/jobs/"+accepted.ID || !uuidV7.MatchString(accepted.ID) {
		t.Errorf("accepted %+v", accepted)
	}

	job, err := client.WaitForJob(ctx, accepted.ID, fastWait)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != progimage.JobSucceeded || job.Succeeded != 2 || job.Failed != 0 || job.Done() != 2 || job.FinishedAt == nil {
		t.Fatalf("finished job %+v", job)
	}
	if string(job.Metadata) != `{"batch":7}` {
		t.Errorf("metadata %s", job.Metadata)
	}
	if len(job.Items) != 2 {
		t.Fatalf("%d items", len(job.Items))
	}
	for i, item := range job.Items {
		if item.Index != i || item.Status != progimage.ItemSucceeded || item.Image == nil || item.Problem != nil {
			t.Fatalf("item %d: %+v", i, item)
		}
		if item.Image.JobID != job.ID {
			t.Errorf("item %d output has job_id %q", i, item.Image.JobID)
		}
	}
	if job.Items[0].Image.SourceImageID != first.ID || job.Items[1].Image.SourceImageID != second.ID {
		t.Errorf("source ids %q, %q", job.Items[0].Image.SourceImageID, job.Items[1].Image.SourceImageID)
	}

	gray := decode(t, readAll(t, mustDownload(t, client, job.Items[0].Image.ID, nil)), "jpeg")
	if size(gray) != [2]int{32, 32} {
		t.Errorf("first output is %v, want 32x32", size(gray))
	}
	if c := at(gray, 8, 8); absDiff(c.R, c.G) > 8 || absDiff(c.G, c.B) > 8 {
		t.Errorf("first output is not gray: %v", c)
	}
	colour := decode(t, readAll(t, mustDownload(t, client, job.Items[1].Image.ID, nil)), "png")
	if size(colour) != [2]int{16, 16} {
		t.Errorf("second output is %v, want 16x16", size(colour))
	}
	checkQuadrants(t, colour, red, green, blue, yellow, 0)
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestAnItemWhoseSourceIsMissingFailsAlone(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	source := uploadPattern(t, client)
	accepted, err := client.Jobs.Submit(ctx, &progimage.JobRequest{Items: []progimage.JobItemRequest{{ImageID: source.ID}, {ImageID: missingID}}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := client.WaitForJob(ctx, accepted.ID, fastWait)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != progimage.JobCompletedWithErrors || job.Succeeded != 1 || job.Failed != 1 {
		t.Fatalf("job %+v", job)
	}
	failed := job.Items[1]
	if failed.Status != progimage.ItemFailed || failed.Image != nil || failed.Problem == nil || failed.Problem.Code != progimage.CodeNotFound {
		t.Errorf("failed item %+v", failed)
	}
	// No format anywhere: the output keeps the source's.
	if output := job.Items[0].Image; output == nil || output.Format != progimage.PNG {
		t.Errorf("output %+v", output)
	}
}

func TestAnInvalidSubmissionIsRefusedWithTheJSONPathAtFault(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	_, err := client.Jobs.Submit(ctx, &progimage.JobRequest{})
	if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != "items" {
		t.Errorf("param %q, want items", apiErr.Param)
	}
	_, err = client.Jobs.Submit(ctx, &progimage.JobRequest{
		Items:     []progimage.JobItemRequest{{ImageID: missingID}},
		Transform: progimage.Transform{Operations: []progimage.Operation{progimage.Blur{Sigma: 500}}},
	})
	if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != "operations[0].sigma" {
		t.Errorf("param %q, want operations[0].sigma", apiErr.Param)
	}
	_, err = client.Jobs.Submit(ctx, &progimage.JobRequest{Items: []progimage.JobItemRequest{{ImageID: missingID}, {ImageID: "not-a-uuid"}}})
	if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != "items[1].image_id" {
		t.Errorf("param %q, want items[1].image_id", apiErr.Param)
	}
	_, err = client.Jobs.Submit(ctx, &progimage.JobRequest{Items: []progimage.JobItemRequest{{ImageID: missingID}}, WebhookURL: "http://169.254.169.254/hook"})
	if apiErr := apiError(t, err, 400, progimage.CodeURLNotAllowed); apiErr.Param != "webhook_url" {
		t.Errorf("param %q, want webhook_url", apiErr.Param)
	}
}

func TestTheSameIdempotencyKeyGivesTheSameJobAndAnotherBodyConflicts(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	source := uploadPattern(t, client)
	key := fmt.Sprintf("sdk-go-%d", time.Now().UnixNano())
	request := &progimage.JobRequest{Items: []progimage.JobItemRequest{{ImageID: source.ID}}, Transform: progimage.Transform{Format: progimage.WebP}, IdempotencyKey: key}
	first, err := client.Jobs.Submit(ctx, request)
	if err != nil {
		t.Fatal(err)
	}
	again, err := client.Jobs.Submit(ctx, request)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.Total != 1 || again.URL != first.URL {
		t.Errorf("the repeat gave %+v, the first %+v", again, first)
	}
	conflicting := *request
	conflicting.Format = progimage.PNG
	_, err = client.Jobs.Submit(ctx, &conflicting)
	apiError(t, err, 409, progimage.CodeIdempotencyConflict)
	if !errors.Is(err, progimage.ErrIdempotencyConflict) {
		t.Error("not ErrIdempotencyConflict")
	}
	// Without a key each submission is its own job.
	request.IdempotencyKey = ""
	one, err := client.Jobs.Submit(ctx, request)
	if err != nil {
		t.Fatal(err)
	}
	two, err := client.Jobs.Submit(ctx, request)
	if err != nil {
		t.Fatal(err)
	}
	if one.ID == two.ID || one.ID == first.ID {
		t.Errorf("keyless submissions share a job: %s %s", one.ID, two.ID)
	}
	for _, id := range []string{first.ID, one.ID, two.ID} {
		if _, err := client.WaitForJob(ctx, id, fastWait); err != nil {
			t.Fatal(err)
		}
	}
}

func TestJobsAreListedPageByPageAndByStatus(t *testing.T) {
	own := startServerT(t, nil)
	ctx, client := testContext(t), own.client(t)
	source := uploadPattern(t, client)
	var submitted []string
	for i := 0; i < 3; i++ {
		accepted, err := client.Jobs.Submit(ctx, &progimage.JobRequest{Items: []progimage.JobItemRequest{{ImageID: source.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		submitted = append(submitted, accepted.ID)
	}
	failing, err := client.Jobs.Submit(ctx, &progimage.JobRequest{Items: []progimage.JobItemRequest{{ImageID: missingID}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range append(submitted, failing.ID) {
		if _, err := client.WaitForJob(ctx, id, fastWait); err != nil {
			t.Fatal(err)
		}
	}

	var listed []string
	it := client.Jobs.List(ctx, &progimage.JobListOptions{Limit: 1})
	for it.Next() {
		job := it.Job()
		if len(job.Items) != 0 {
			t.Errorf("a listed job carries %d items", len(job.Items))
		}
		listed = append(listed, job.ID)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{failing.ID, submitted[2], submitted[1], submitted[0]}; !reflect.DeepEqual(listed, want) {
		t.Errorf("listed %v, want newest first %v", listed, want)
	}

	var succeeded []string
	bySucceeded := client.Jobs.List(ctx, &progimage.JobListOptions{Status: progimage.JobSucceeded, Limit: 2})
	for bySucceeded.Next() {
		if job := bySucceeded.Job(); job.Status != progimage.JobSucceeded {
			t.Errorf("listed a %s job", job.Status)
		}
		succeeded = append(succeeded, bySucceeded.Job().ID)
	}
	if err := bySucceeded.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{submitted[2], submitted[1], submitted[0]}; !reflect.DeepEqual(succeeded, want) {
		t.Errorf("succeeded %v, want %v", succeeded, want)
	}
	page, err := client.Jobs.ListPage(ctx, &progimage.JobListOptions{Status: progimage.JobFailed})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Jobs) != 1 || page.Jobs[0].ID != failing.ID || page.NextCursor != "" {
		t.Errorf("failed jobs %+v", page)
	}
	_, err = client.Jobs.ListPage(ctx, &progimage.JobListOptions{Status: "exploded"})
	if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != "status" {
		t.Errorf("param %q, want status", apiErr.Param)
	}
}

func TestGetAndCancelAFinishedJob(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	source := uploadPattern(t, client)
	accepted, err := client.Jobs.Submit(ctx, &progimage.JobRequest{Items: []progimage.JobItemRequest{{ImageID: source.ID}}, Transform: progimage.Transform{Operations: []progimage.Operation{progimage.Rotate{Degrees: 90}}}})
	if err != nil {
		t.Fatal(err)
	}
	fetched, err := client.Jobs.Get(ctx, accepted.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fetched.ID != accepted.ID || fetched.Total != 1 || len(fetched.Items) != 1 || fetched.Webhook != nil {
		t.Errorf("fetched %+v", fetched)
	}
	finished, err := client.WaitForJob(ctx, accepted.ID, fastWait)
	if err != nil {
		t.Fatal(err)
	}
	// Cancelling a finished job returns it unchanged.
	cancelled, err := client.Jobs.Cancel(ctx, accepted.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.Status != finished.Status || !cancelled.FinishedAt.Equal(*finished.FinishedAt) || cancelled.Succeeded != 1 {
		t.Errorf("cancelled finished job %+v, was %+v", cancelled, finished)
	}
	_, err = client.Jobs.Get(ctx, missingID)
	apiError(t, err, 404, progimage.CodeNotFound)
	_, err = client.Jobs.Cancel(ctx, missingID)
	apiError(t, err, 404, progimage.CodeNotFound)
	_, err = client.Jobs.Get(ctx, "not-a-job")
	apiError(t, err, 404, progimage.CodeNotFound)
}

func TestCancellingARunningJobCancelsItsQueuedItems(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	source := uploadPattern(t, client)
	items := make([]progimage.JobItemRequest, 50)
	for i := range items {
		items[i] = progimage.JobItemRequest{ImageID: source.ID}
	}
	accepted, err := client.Jobs.Submit(ctx, &progimage.JobRequest{
		Items:     items,
		Transform: progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Resize{Width: 600, Enlarge: progimage.Bool(true)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cancelling, err := client.Jobs.Cancel(ctx, accepted.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cancelling.ID != accepted.ID {
		t.Errorf("cancelled %s, want %s", cancelling.ID, accepted.ID)
	}
	ended, err := client.WaitForJob(ctx, accepted.ID, fastWait)
	if err != nil {
		t.Fatal(err)
	}
	if ended.FinishedAt == nil || ended.Done() != 50 {
		t.Fatalf("ended job %+v", ended)
	}
	want := progimage.JobSucceeded
	if ended.Cancelled > 0 {
		want = progimage.JobCancelled
	}
	if ended.Status != want {
		t.Errorf("status %s with %d cancelled, want %s", ended.Status, ended.Cancelled, want)
	}
	// Outputs of items that ran are kept.
	for _, item := range ended.Items {
		if (item.Image != nil) != (item.Status == progimage.ItemSucceeded) {
			t.Errorf("item %d: status %s, image %v", item.Index, item.Status, item.Image)
		}
	}
}

func TestWaitForJobGivesUpWithTheJobAsLastSeen(t *testing.T) {
	var polls atomic.Int32
	running := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]interface{}{"id": "j", "status": "running", "total": 2, "succeeded": 1, "failed": 0, "cancelled": 0})
	}))
	defer running.Close()
	client, err := progimage.New(running.URL)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	_, err = client.WaitForJob(context.Background(), "j", &progimage.WaitOptions{PollInterval: 10 * time.Millisecond, MaxPollInterval: 40 * time.Millisecond, Timeout: 300 * time.Millisecond})
	took := time.Since(started)
	var waitErr *progimage.WaitError
	if !errors.As(err, &waitErr) {
		t.Fatalf("error %v (%T), want a *WaitError", err, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v is not a deadline", err)
	}
	if waitErr.Job == nil || waitErr.Job.Status != progimage.JobRunning || waitErr.Job.Done() != 1 {
		t.Errorf("last seen %+v", waitErr.Job)
	}
	if took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("gave up after %v", took)
	}
	// 10, 15, 22, 33, then 40 ms apart: far fewer polls than 300 ms at the first interval.
	if n := polls.Load(); n < 4 || n > 15 {
		t.Errorf("%d polls", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := client.WaitForJob(ctx, "j", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context gave %v", err)
	}
}

func TestAURLItemIsStoredWithoutASourceImage(t *testing.T) {
	ctx, client, remote := testContext(t), shared.client(t), site(t)
	accepted, err := client.Jobs.Submit(ctx, &progimage.JobRequest{Items: []progimage.JobItemRequest{{URL: remote.URL + "/pictures/remote.png", Transform: progimage.Transform{Format: progimage.GIF}}}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := client.WaitForJob(ctx, accepted.ID, fastWait)
	if err != nil {
		t.Fatal(err)
	}
	output := job.Items[0].Image
	if job.Status != progimage.JobSucceeded || output == nil {
		t.Fatalf("job %+v", job)
	}
	// A URL source has no source image.
	if output.SourceImageID != "" || output.JobID != job.ID || output.Format != progimage.GIF {
		t.Errorf("output %+v", output)
	}
	stored, err := client.Images.Get(ctx, output.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, output) {
		t.Errorf("stored %+v, item %+v", stored, output)
	}
	if got := size(decode(t, readAll(t, mustDownload(t, client, output.ID, nil)), "gif")); got != [2]int{64, 96} {
		t.Errorf("gif output is %v", got)
	}
}
