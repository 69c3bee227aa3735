package progimage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	progimage "github.com/progimage/progimage/clients/go"
)

func ExampleNew() {
	client, err := progimage.New("https://images.example.com",
		progimage.WithAPIKey(os.Getenv("PROGIMAGE_API_KEY")),
		progimage.WithTimeout(30*time.Second),
		progimage.WithMaxRetries(3),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.BaseURL())
	// Output: https://images.example.com
}

func ExampleImagesService_Upload() {
	client, _ := progimage.New("http://127.0.0.1:8080")
	file, err := os.Open("cat.jpg")
	if err != nil {
		log.Fatal(err)
	}
	defer file.Close()
	// The file is streamed, not read into memory first.
	image, err := client.Images.Upload(context.Background(), file, &progimage.UploadOptions{
		Filename:    "cat.jpg",
		ContentType: "image/jpeg",
		Eager:       []progimage.Format{progimage.WebP},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(image.ID, image.Width, image.Height)
}

func ExampleImagesService_URL() {
	client, _ := progimage.New("https://images.example.com")
	thumbnail, _ := client.Images.URL("0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69", &progimage.Transform{
		Format:     progimage.WebP,
		Operations: []progimage.Operation{progimage.Resize{Width: 300, Height: 300, Fit: progimage.FitCover}},
		Quality:    80,
	})
	fmt.Println(thumbnail)
	// Steps out of the query form's fixed order go as an ops pipeline.
	rotatedFirst, _ := client.Images.URL("0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69", &progimage.Transform{
		Format:     progimage.PNG,
		Operations: []progimage.Operation{progimage.Rotate{Degrees: 90}, progimage.Crop{X: 0, Y: 0, Width: 100, Height: 50}},
	})
	fmt.Println(rotatedFirst)
	// Output:
	// https://images.example.com/v1/images/0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69.webp?w=300&h=300&fit=cover&q=80
	// https://images.example.com/v1/images/0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69.png?ops=rotate:degrees%3D90%7Ccrop:x%3D0,y%3D0,width%3D100,height%3D50
}

func ExamplePipeline() {
	fmt.Println(progimage.Pipeline(
		progimage.Rotate{Degrees: 90},
		progimage.Resize{Width: 300, Height: 300, Fit: progimage.FitCover},
		progimage.Grayscale{},
	))
	// Output: rotate:degrees=90|resize:width=300,height=300,fit=cover|grayscale
}

func ExampleImagesService_Download() {
	client, _ := progimage.New("http://127.0.0.1:8080")
	download, err := client.Images.Download(context.Background(), "0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69", &progimage.Transform{
		Format:     progimage.JPEG,
		Operations: []progimage.Operation{progimage.Resize{Width: 640}, progimage.Sharpen{Sigma: 0.5}},
		Quality:    85,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer download.Body.Close()
	out, _ := os.Create("cat-640.jpg")
	defer out.Close()
	if _, err := io.Copy(out, download.Body); err != nil {
		log.Fatal(err)
	}
}

func ExampleImagesService_List() {
	client, _ := progimage.New("http://127.0.0.1:8080")
	it := client.Images.List(context.Background(), &progimage.ListOptions{Limit: 200})
	for it.Next() {
		image := it.Image()
		fmt.Println(image.ID, image.Filename, image.Bytes)
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
}

func ExampleClient_WaitForJob() {
	ctx := context.Background()
	client, _ := progimage.New("http://127.0.0.1:8080")
	accepted, err := client.Jobs.Submit(ctx, &progimage.JobRequest{
		Items: []progimage.JobItemRequest{
			{ImageID: "0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69"},
			{URL: "https://example.com/photo.jpg"},
		},
		Transform: progimage.Transform{
			Format:     progimage.WebP,
			Operations: []progimage.Operation{progimage.Resize{Width: 1200}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	job, err := client.WaitForJob(ctx, accepted.ID, &progimage.WaitOptions{Timeout: 5 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	for _, item := range job.Items {
		if item.Image != nil {
			fmt.Println(item.Index, "→", item.Image.ID)
		} else {
			fmt.Println(item.Index, "failed:", item.Problem.Detail)
		}
	}
}

func ExampleClient_Transform() {
	client, _ := progimage.New("http://127.0.0.1:8080")
	photo, _ := os.Open("photo.png")
	defer photo.Close()
	output, err := client.Transform(context.Background(), progimage.ReaderSource(photo, "image/png"), &progimage.Transform{
		Format:     progimage.AVIF,
		Operations: []progimage.Operation{progimage.Resize{Width: 800}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer output.Body.Close()
	_, _ = io.Copy(io.Discard, output.Body)
}

func ExampleAPIError() {
	client, _ := progimage.New("http://127.0.0.1:8080")
	_, err := client.Images.Get(context.Background(), "0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69")
	var apiErr *progimage.APIError
	switch {
	case errors.Is(err, progimage.ErrNotFound):
		fmt.Println("no such image")
	case errors.As(err, &apiErr):
		fmt.Printf("%d %s: %s (param %q, request %s)\n", apiErr.Status, apiErr.Code, apiErr.Detail, apiErr.Param, apiErr.RequestID)
	case err != nil:
		fmt.Println("no answer:", err)
	}
}

func ExampleSignWebhook() {
	fmt.Println(progimage.SignWebhook("whsec_test", 1_700_000_000, []byte(`{"id":"job"}`)))
	// Output: t=1700000000,v1=efaabbdc3f13d4ef4c66646bc55b20549c774be986532e72dfc433e26946a21d
}

func ExampleVerifyWebhook() {
	header := "t=1700000000,v1=efaabbdc3f13d4ef4c66646bc55b20549c774be986532e72dfc433e26946a21d"
	body := []byte(`{"id":"job"}`)
	now := time.Unix(1_700_000_100, 0)
	fmt.Println(progimage.VerifyWebhook("whsec_test", header, body, now, progimage.DefaultWebhookTolerance))
	fmt.Println(progimage.VerifyWebhook("whsec_test", header, []byte(`{"id":"other"}`), now, progimage.DefaultWebhookTolerance))
	late := time.Unix(1_700_001_000, 0)
	err := progimage.VerifyWebhook("whsec_test", header, body, late, progimage.DefaultWebhookTolerance)
	fmt.Println(errors.Is(err, progimage.ErrWebhookOutsideTolerance))
	// Output:
	// <nil>
	// progimage: no webhook signature matches
	// true
}

// A receiver of job.finished webhooks: verify the raw body, then decode the job.
func ExampleVerifyWebhook_handler() {
	secret := os.Getenv("PROGIMAGE_WEBHOOK_SECRET") // from client.WebhookSecret
	http.HandleFunc("/hooks/progimage", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		signature := r.Header.Get(progimage.SignatureHeader)
		if err := progimage.VerifyWebhook(secret, signature, body, time.Now(), progimage.DefaultWebhookTolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var job progimage.Job
		if err := json.Unmarshal(body, &job); err != nil {
			http.Error(w, "not a job", http.StatusBadRequest)
			return
		}
		log.Printf("job %s ended %s: %d/%d succeeded", job.ID, job.Status, job.Succeeded, job.Total)
		w.WriteHeader(http.StatusNoContent)
	})
}
