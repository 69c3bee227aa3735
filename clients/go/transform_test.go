package progimage_test

import (
	"bytes"
	"testing"

	progimage "github.com/progimage/progimage/clients/go"
)

func TestPipelineWritesTheJSONKeys(t *testing.T) {
	got := progimage.Pipeline(
		progimage.Rotate{Degrees: 90},
		progimage.Resize{Width: 300, Height: 300, Fit: progimage.FitCover, Enlarge: progimage.Bool(true)},
		progimage.Grayscale{},
		progimage.Crop{X: 0, Y: 5, Width: 10, Height: 20},
		progimage.Blur{Sigma: 1.5},
		progimage.Sharpen{Sigma: 0.25},
		progimage.Brightness{Amount: -10},
		progimage.Contrast{Amount: 20},
		progimage.Flip{Axis: progimage.FlipVertical},
		progimage.Mask{Shape: progimage.MaskRounded, Radius: 12},
		progimage.Mask{ImageID: missingID},
	)
	want := "rotate:degrees=90|resize:width=300,height=300,fit=cover,enlarge=true|grayscale|crop:x=0,y=5,width=10,height=20" +
		"|blur:sigma=1.5|sharpen:sigma=0.25|brightness:amount=-10|contrast:amount=20|flip:axis=v" +
		"|mask:shape=rounded,radius=12|mask:image_id=" + missingID
	if got != want {
		t.Errorf("pipeline\n%s\nwant\n%s", got, want)
	}
}

func TestURLWritesTheQueryFormInTheServiceOrder(t *testing.T) {
	client, err := progimage.New("https://images.example.com/base/")
	if err != nil {
		t.Fatal(err)
	}
	address, err := client.Images.URL("abc", &progimage.Transform{
		Format: progimage.WebP,
		Operations: []progimage.Operation{
			progimage.Crop{X: 1, Y: 2, Width: 3, Height: 4},
			progimage.Resize{Width: 300, Height: 200, Fit: progimage.FitCover, Gravity: progimage.GravitySmart, Enlarge: progimage.Bool(true)},
			progimage.Rotate{Degrees: -45},
			progimage.Flip{Axis: progimage.FlipVertical},
			progimage.Grayscale{},
			progimage.Blur{Sigma: 2},
			progimage.Sharpen{Sigma: 1.5},
			progimage.Brightness{Amount: 20},
			progimage.Contrast{Amount: -10},
			progimage.Mask{ImageID: missingID},
		},
		Quality:    80,
		Lossless:   progimage.Bool(false),
		Background: "00000080",
		Strip:      progimage.Bool(false),
		SVG:        progimage.SVGEmbed,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://images.example.com/base/v1/images/abc.webp?crop=1,2,3,4&w=300&h=200&fit=cover&gravity=smart&enlarge=true" +
		"&rotate=-45&flip=v&grayscale=true&blur=2&sharpen=1.5&brightness=20&contrast=-10&mask=" + missingID +
		"&q=80&lossless=false&bg=00000080&strip=false&svg=embed"
	if address != want {
		t.Errorf("URL\n%s\nwant\n%s", address, want)
	}
	// Ids are path segments: none can reach another route.
	escaped, _ := client.Images.URL("../healthz", nil)
	if escaped != "https://images.example.com/base/v1/images/..%2Fhealthz" {
		t.Errorf("escaped id URL %s", escaped)
	}
	dots, _ := client.Images.URL("..", &progimage.Transform{Format: progimage.PNG})
	if dots != "https://images.example.com/base/v1/images/%2E%2E.png" {
		t.Errorf("dot id URL %s", dots)
	}
	plain, _ := client.Images.URL("abc", &progimage.Transform{Format: progimage.AVIF})
	if plain != "https://images.example.com/base/v1/images/abc.avif" {
		t.Errorf("plain conversion URL %s", plain)
	}
}

func TestTransformOfBytesSendsThemRawWithTheQueryForm(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	png := fixture(t, "images/sample.png")
	before, err := client.Images.ListPage(ctx, &progimage.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}

	output, err := client.Transform(ctx, progimage.ReaderSource(bytes.NewReader(png), "image/png"), &progimage.Transform{
		Format: progimage.JPEG, Quality: 80, Operations: []progimage.Operation{progimage.Resize{Width: 32}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if output.ContentType != "image/jpeg" || output.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("type %q, cache-control %q", output.ContentType, output.Header.Get("Cache-Control"))
	}
	if got := size(decode(t, readAll(t, output), "jpeg")); got != [2]int{32, 48} {
		t.Errorf("transformed to %v, want 32x48", got)
	}

	// No format: the output keeps the source's; out of the fixed order the steps go as ops.
	rotated, err := client.Transform(ctx, progimage.ReaderSource(bytes.NewReader(fixture(t, "images/pattern.png")), ""), &progimage.Transform{
		Operations: []progimage.Operation{progimage.Rotate{Degrees: 270}, progimage.Crop{X: 0, Y: 0, Width: 32, Height: 64}},
	})
	if err != nil {
		t.Fatal(err)
	}
	picture := decode(t, readAll(t, rotated), "png")
	// Counter-clockwise, the top-right green comes to the top left, the red under it.
	if size(picture) != [2]int{32, 64} {
		t.Errorf("rotated and cropped to %v, want 32x64", size(picture))
	}
	checkQuadrants(t, picture, green, green, red, red, 0)

	after, err := client.Images.ListPage(ctx, &progimage.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Images) != len(before.Images) {
		t.Errorf("a stateless transform stored something: %d images before, %d after", len(before.Images), len(after.Images))
	}
}

func TestTransformOfAStoredImageOrAURLSendsJSON(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	id := uploadPattern(t, client).ID
	output, err := client.Transform(ctx, progimage.ImageSource(id), &progimage.Transform{
		Format:     progimage.PNG,
		Operations: []progimage.Operation{progimage.Crop{X: 0, Y: 0, Width: 32, Height: 64}, progimage.Resize{Width: 16}},
	})
	if err != nil {
		t.Fatal(err)
	}
	picture := decode(t, readAll(t, output), "png")
	if size(picture) != [2]int{16, 32} {
		t.Errorf("transformed to %v, want 16x32", size(picture))
	}
	checkQuadrants(t, picture, red, red, blue, blue, 0)

	remote := site(t)
	fetched, err := client.Transform(ctx, progimage.URLSource(remote.URL+"/pictures/remote.png"), &progimage.Transform{
		Format: progimage.WebP, Lossless: progimage.Bool(true), Operations: []progimage.Operation{progimage.Resize{Height: 48}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := webpSize(t, readAll(t, fetched)); got != [2]int{32, 48} {
		t.Errorf("fetched and resized to %v, want 32x48", got)
	}
}

func TestTransformErrorsNameTheParameterInTheFormSent(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	png := fixture(t, "images/sample.png")
	cases := []struct {
		source    progimage.Source
		transform *progimage.Transform
		param     string
	}{
		{progimage.ReaderSource(bytes.NewReader(png), ""), &progimage.Transform{Operations: []progimage.Operation{progimage.Resize{Width: 20000}}}, "w"},
		{progimage.ReaderSource(bytes.NewReader(png), ""), &progimage.Transform{Operations: []progimage.Operation{progimage.Rotate{Degrees: 90}, progimage.Blur{Sigma: 101}, progimage.Crop{Width: 1, Height: 1}}}, "ops"},
		{progimage.ReaderSource(bytes.NewReader(png), ""), &progimage.Transform{Format: "bogus"}, "format"},
		{progimage.ImageSource(missingID), &progimage.Transform{Operations: []progimage.Operation{progimage.Resize{Width: 10}, progimage.Blur{Sigma: 500}}}, "operations[1].sigma"},
	}
	for _, c := range cases {
		_, err := client.Transform(ctx, c.source, c.transform)
		if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != c.param {
			t.Errorf("param %q, want %q (%v)", apiErr.Param, c.param, err)
		}
	}
	_, err := client.Transform(ctx, progimage.ImageSource(missingID), &progimage.Transform{Format: progimage.PNG})
	apiError(t, err, 404, progimage.CodeNotFound)
}

func TestJobsSendTheStepsAsJSONWithTheirKeys(t *testing.T) {
	s := newScripted(t, answer(202, `{"id":"j","status":"queued","url":"/v1/jobs/j","total":2}`))
	_, err := s.client(t).Jobs.Submit(testContext(t), &progimage.JobRequest{
		Items: []progimage.JobItemRequest{
			{ImageID: missingID},
			{URL: "https://example.com/a.png", Transform: progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{}, Lossless: progimage.Bool(false)}},
		},
		Transform: progimage.Transform{
			Operations: []progimage.Operation{
				progimage.Resize{Width: 300, Fit: progimage.FitCover, Gravity: progimage.GravityNorth, Enlarge: progimage.Bool(false)},
				progimage.Crop{X: 1, Y: 2, Width: 3, Height: 4},
				progimage.Rotate{Degrees: 12.5},
				progimage.Flip{Axis: progimage.FlipHorizontal},
				progimage.Grayscale{},
				progimage.Blur{Sigma: 2},
				progimage.Sharpen{Sigma: 0},
				progimage.Brightness{Amount: -5},
				progimage.Contrast{Amount: 5},
				progimage.Mask{Shape: progimage.MaskEllipse},
				progimage.Mask{Shape: progimage.MaskRounded, Radius: 4},
				progimage.Mask{ImageID: missingID},
			},
			Format:     progimage.WebP,
			Quality:    70,
			Background: "ffffff80",
			Strip:      progimage.Bool(true),
			SVG:        progimage.SVGTrace,
		},
		WebhookURL:     "https://client.example/hooks",
		Metadata:       map[string]int{"batch": 1},
		IdempotencyKey: "key-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := s.recorded()
	want := `{"background":"ffffff80","format":"webp","items":[{"image_id":"` + missingID + `"},` +
		`{"format":"png","lossless":false,"operations":[],"url":"https://example.com/a.png"}],"metadata":{"batch":1},` +
		`"operations":[{"op":"resize","width":300,"fit":"cover","gravity":"north","enlarge":false},` +
		`{"op":"crop","x":1,"y":2,"width":3,"height":4},{"op":"rotate","degrees":12.5},{"op":"flip","axis":"h"},` +
		`{"op":"grayscale"},{"op":"blur","sigma":2},{"op":"sharpen","sigma":0},{"op":"brightness","amount":-5},` +
		`{"op":"contrast","amount":5},{"op":"mask","shape":"ellipse"},{"op":"mask","shape":"rounded","radius":4},` +
		`{"op":"mask","image_id":"` + missingID + `"}],"quality":70,"strip":true,"svg":"trace","webhook_url":"https://client.example/hooks"}`
	if len(calls) != 1 || calls[0].body != want || calls[0].idempotencyKey != "key-1" {
		t.Errorf("body\n%s\nwant\n%s", calls[0].body, want)
	}
}
