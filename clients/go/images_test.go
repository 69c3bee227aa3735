package progimage_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"sync/atomic"
	"testing"

	progimage "github.com/progimage/progimage/clients/go"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUploadStoresTheBytesAndGetReturnsTheSameImage(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	png := fixture(t, "images/sample.png")
	image, err := client.Images.Upload(ctx, bytes.NewReader(png), &progimage.UploadOptions{Filename: "sample.png", ContentType: "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	if !uuidV7.MatchString(image.ID) {
		t.Errorf("id %q is not a UUIDv7", image.ID)
	}
	want := progimage.Image{
		ID: image.ID, URL: "/v1/images/" + image.ID, Format: progimage.PNG, ContentType: "image/png",
		Width: 64, Height: 96, Bytes: int64(len(png)), SHA256: sha256Hex(png), Filename: "sample.png",
		CreatedAt: image.CreatedAt,
	}
	if !reflect.DeepEqual(*image, want) {
		t.Errorf("uploaded\n%+v\nwant\n%+v", *image, want)
	}
	if image.CreatedAt.IsZero() {
		t.Error("no created_at")
	}
	got, err := client.Images.Get(ctx, image.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, image) {
		t.Errorf("Get returned %+v, want %+v", got, image)
	}
}

func TestUploadStreamsReadersOfUnknownLengthAndFiles(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	jpeg := fixture(t, "images/sample.jpeg")
	// A reader that tells neither its length nor lets itself be rewound goes chunked.
	streamed, err := client.Images.Upload(ctx, io.MultiReader(bytes.NewReader(jpeg[:100]), bytes.NewReader(jpeg[100:])), nil)
	if err != nil {
		t.Fatal(err)
	}
	if streamed.Format != progimage.JPEG || streamed.SHA256 != sha256Hex(jpeg) || streamed.Filename != "" {
		t.Errorf("streamed upload stored %+v", streamed)
	}
	file, err := os.Open(fixturePath("images/pattern.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	fromFile, err := client.Images.Upload(ctx, file, &progimage.UploadOptions{Filename: "pattern.png"})
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.Format != progimage.PNG || fromFile.Width != 64 || fromFile.Height != 64 || fromFile.Filename != "pattern.png" {
		t.Errorf("file upload stored %+v", fromFile)
	}
	// Upload leaves the caller's file open.
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		t.Errorf("the file was closed: %v", err)
	}
}

func TestUploadManyStoresEachFileAndReportsRefusalsPerFile(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	png, jpeg := fixture(t, "images/sample.png"), fixture(t, "images/sample.jpeg")
	results, err := client.Images.UploadMany(ctx, []progimage.UploadFile{
		{Reader: bytes.NewReader(png), Filename: "first.png"},
		{Reader: bytes.NewReader(fixture(t, "hostile/not-an-image.txt")), Filename: "notes.txt"},
		{Reader: bytes.NewReader(jpeg), ContentType: "image/jpeg"},
		{Reader: io.MultiReader(bytes.NewReader(png))},
		{Reader: bytes.NewReader(png), Filename: `quote".png`, ContentType: "image/png"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 5 {
		t.Fatalf("%d results, want 5", len(results))
	}
	if image := results[0].Image; image == nil || image.Filename != "first.png" || image.Format != progimage.PNG || results[0].Problem != nil {
		t.Errorf("first file: %+v", results[0])
	}
	if problem := results[1].Problem; results[1].Image != nil || problem == nil || problem.Code != progimage.CodeInvalidImage || problem.Status != 422 {
		t.Errorf("text file: image %+v, problem %+v", results[1].Image, results[1].Problem)
	} else if !errors.Is(problem, progimage.ErrInvalidImage) {
		t.Errorf("the part's problem does not match ErrInvalidImage")
	}
	if image := results[2].Image; image == nil || image.Format != progimage.JPEG || image.SHA256 != sha256Hex(jpeg) {
		t.Errorf("typed jpeg: %+v", results[2])
	}
	// A part with neither name nor type is typed by its bytes and stored without a name.
	if image := results[3].Image; image == nil || image.Format != progimage.PNG || image.Filename != "" {
		t.Errorf("untyped part: %+v", results[3])
	}
	if image := results[4].Image; image == nil || image.Filename != "quote%22.png" {
		t.Errorf("quoted name: %+v", results[4])
	}
}

func TestUploadWithEagerFormatsServesTheVariant(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	image, err := client.Images.Upload(ctx, bytes.NewReader(fixture(t, "images/sample.png")), &progimage.UploadOptions{Eager: []progimage.Format{progimage.WebP, progimage.GIF}})
	if err != nil {
		t.Fatal(err)
	}
	download, err := client.Images.Download(ctx, image.ID, &progimage.Transform{Format: progimage.WebP})
	if err != nil {
		t.Fatal(err)
	}
	if download.ContentType != "image/webp" {
		t.Errorf("content type %q", download.ContentType)
	}
	if got := webpSize(t, readAll(t, download)); got != [2]int{64, 96} {
		t.Errorf("webp is %v, want 64x96", got)
	}
}

func TestDownloadWithoutTransformReturnsTheOriginal(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	jpeg := fixture(t, "images/wine.jpg")
	image, err := client.Images.Upload(ctx, bytes.NewReader(jpeg), &progimage.UploadOptions{ContentType: "image/jpeg"})
	if err != nil {
		t.Fatal(err)
	}
	download, err := client.Images.Download(ctx, image.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if download.ContentType != "image/jpeg" || download.ContentLength != int64(len(jpeg)) || download.ETag == "" {
		t.Errorf("headers: type %q, length %d, etag %q", download.ContentType, download.ContentLength, download.ETag)
	}
	if got := readAll(t, download); !bytes.Equal(got, jpeg) {
		t.Errorf("downloaded %d bytes that differ from the %d uploaded", len(got), len(jpeg))
	}
	picture := decode(t, jpeg, "jpeg")
	if size(picture) != [2]int{image.Width, image.Height} {
		t.Errorf("metadata says %dx%d, the JPEG is %v", image.Width, image.Height, size(picture))
	}
}

// uploadPattern stores fixtures/images/pattern.png: four flat 32x32 quadrants.
func uploadPattern(t *testing.T, client *progimage.Client) *progimage.Image {
	t.Helper()
	image, err := client.Images.Upload(testContext(t), bytes.NewReader(fixture(t, "images/pattern.png")), nil)
	if err != nil {
		t.Fatal(err)
	}
	return image
}

// variant downloads and decodes a variant of an image.
func variant(t *testing.T, client *progimage.Client, id string, transform *progimage.Transform) []byte {
	t.Helper()
	download, err := client.Images.Download(testContext(t), id, transform)
	if err != nil {
		t.Fatalf("%+v: %v", transform, err)
	}
	return readAll(t, download)
}

func TestDownloadVariantsHaveTheStepsApplied(t *testing.T) {
	client := shared.client(t)
	pattern := uploadPattern(t, client).ID

	resized := decode(t, variant(t, client, pattern, &progimage.Transform{Format: progimage.JPEG, Quality: 90, Operations: []progimage.Operation{progimage.Resize{Width: 32}}}), "jpeg")
	if size(resized) != [2]int{32, 32} {
		t.Errorf("resized to %v, want 32x32", size(resized))
	}
	checkQuadrants(t, resized, red, green, blue, yellow, 40)

	// Clockwise: the bottom-left quadrant comes to the top left.
	rotated := decode(t, variant(t, client, pattern, &progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Rotate{Degrees: 90}}}), "png")
	checkQuadrants(t, rotated, blue, red, yellow, green, 0)

	flipped := decode(t, variant(t, client, pattern, &progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Flip{Axis: progimage.FlipHorizontal}}}), "png")
	checkQuadrants(t, flipped, green, red, yellow, blue, 0)

	cropped := decode(t, variant(t, client, pattern, &progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Crop{X: 32, Y: 0, Width: 32, Height: 32}}}), "png")
	if size(cropped) != [2]int{32, 32} {
		t.Errorf("cropped to %v", size(cropped))
	}
	checkQuadrants(t, cropped, green, green, green, green, 0)

	gray := decode(t, variant(t, client, pattern, &progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Grayscale{}}}), "png")
	for _, point := range [][2]int{{8, 8}, {40, 8}, {8, 40}, {40, 40}} {
		if c := at(gray, point[0], point[1]); c.R != c.G || c.G != c.B {
			t.Errorf("grayscale pixel %v is %v", point, c)
		}
	}

	stretched := decode(t, variant(t, client, pattern, &progimage.Transform{Format: progimage.GIF, Operations: []progimage.Operation{progimage.Resize{Width: 10, Height: 50, Fit: progimage.FitFill}}}), "gif")
	if size(stretched) != [2]int{10, 50} {
		t.Errorf("stretched to %v, want 10x50", size(stretched))
	}

	circle := decode(t, variant(t, client, pattern, &progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Mask{Shape: progimage.MaskCircle}}}), "png")
	if corner, centre := at(circle, 0, 0), at(circle, 32, 32); corner.A != 0 || centre.A != 255 {
		t.Errorf("circle mask: corner %v, centre %v", corner, centre)
	}
}

func TestDownloadRunsOperationsInTheOrderGiven(t *testing.T) {
	client := shared.client(t)
	sample, err := client.Images.Upload(testContext(t), bytes.NewReader(fixture(t, "images/sample.png")), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Rotating first turns 64x96 into 96x64, then width 48 gives 48x32 (an ops pipeline,
	// since the query form would resize first).
	rotatedFirst := decode(t, variant(t, client, sample.ID, &progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{
		progimage.Rotate{Degrees: 90}, progimage.Resize{Width: 48}, progimage.Blur{Sigma: 1},
	}}), "png")
	if size(rotatedFirst) != [2]int{48, 32} {
		t.Errorf("rotate then resize gave %v, want 48x32", size(rotatedFirst))
	}
	// Resizing first gives 48x72, then rotating 72x48.
	resizedFirst := decode(t, variant(t, client, sample.ID, &progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{
		progimage.Resize{Width: 48}, progimage.Rotate{Degrees: 90},
	}}), "png")
	if size(resizedFirst) != [2]int{72, 48} {
		t.Errorf("resize then rotate gave %v, want 72x48", size(resizedFirst))
	}
	// The top 16 rows of sample.png are transparent: a JPEG flattens them onto bg.
	flattened := decode(t, variant(t, client, sample.ID, &progimage.Transform{Format: progimage.JPEG, Background: "ff0000"}), "jpeg")
	if got := at(flattened, 32, 4); !near(got, rgba{255, 0, 0, 255}, 40) {
		t.Errorf("flattened transparency is %v, want red", got)
	}
}

func TestVariantsAreMadeOnceThenServedFromStorage(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	id := uploadPattern(t, client).ID
	transform := &progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Resize{Width: 16}}}
	var caches []string
	var tags []string
	for i := 0; i < 2; i++ {
		download, err := client.Images.Download(ctx, id, transform)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, download)
		caches, tags = append(caches, download.Cache), append(tags, download.ETag)
	}
	if !reflect.DeepEqual(caches, []string{"miss", "hit"}) {
		t.Errorf("x-progimage-cache %v, want [miss hit]", caches)
	}
	if tags[0] == "" || tags[0] != tags[1] {
		t.Errorf("ETags %v", tags)
	}
}

func TestURLBuildsTheAddressesTheServiceAnswers(t *testing.T) {
	client := shared.client(t)
	id := uploadPattern(t, client).ID
	pattern := fixture(t, "images/pattern.png")

	original, err := client.Images.URL(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if original != shared.url+"/v1/images/"+id {
		t.Errorf("original URL %q", original)
	}
	if got := fetch(t, original); !bytes.Equal(got, pattern) {
		t.Error("the original URL does not serve the original bytes")
	}

	cases := []struct {
		transform *progimage.Transform
		query     string
		size      [2]int
		format    string
	}{
		{
			&progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Resize{Width: 16}, progimage.Flip{Axis: progimage.FlipHorizontal}}, Background: "ff0000"},
			".png?w=16&flip=h&bg=ff0000", [2]int{16, 16}, "png",
		},
		{
			&progimage.Transform{Format: progimage.JPEG, Quality: 70, Operations: []progimage.Operation{
				progimage.Crop{X: 0, Y: 0, Width: 40, Height: 20}, progimage.Resize{Width: 20, Height: 20, Fit: progimage.FitCover, Gravity: progimage.GravityNorth}, progimage.Grayscale{},
			}},
			".jpeg?crop=0,0,40,20&w=20&h=20&fit=cover&gravity=north&grayscale=true&q=70", [2]int{20, 20}, "jpeg",
		},
		{
			&progimage.Transform{Format: progimage.GIF, Operations: []progimage.Operation{progimage.Grayscale{}, progimage.Resize{Width: 20, Fit: progimage.FitCover}}},
			".gif?ops=grayscale%7Cresize:width%3D20,fit%3Dcover", [2]int{20, 20}, "gif",
		},
		{
			&progimage.Transform{Format: progimage.PNG, Operations: []progimage.Operation{progimage.Mask{Shape: progimage.MaskRounded, Radius: 8}}, Strip: progimage.Bool(false)},
			".png?mask=rounded:8&strip=false", [2]int{64, 64}, "png",
		},
	}
	for _, c := range cases {
		address, err := client.Images.URL(id, c.transform)
		if err != nil {
			t.Fatal(err)
		}
		if want := shared.url + "/v1/images/" + id + c.query; address != want {
			t.Errorf("URL\n%s\nwant\n%s", address, want)
			continue
		}
		if got := size(decode(t, fetch(t, address), c.format)); got != c.size {
			t.Errorf("%s is %v, want %v", address, got, c.size)
		}
	}

	if _, err := client.Images.URL(id, &progimage.Transform{Operations: []progimage.Operation{progimage.Resize{Width: 10}}}); !errors.Is(err, progimage.ErrFormatRequired) {
		t.Errorf("a transform without a format gave %v", err)
	}
}

// fetch GETs an address with a plain HTTP client, as a browser would.
func fetch(t *testing.T, address string) []byte {
	t.Helper()
	answer, err := http.Get(address)
	if err != nil {
		t.Fatal(err)
	}
	defer answer.Body.Close()
	body, err := io.ReadAll(answer.Body)
	if err != nil {
		t.Fatal(err)
	}
	if answer.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", address, answer.StatusCode, body)
	}
	return body
}

// countingTransport counts the requests a client sends.
type countingTransport struct{ requests atomic.Int32 }

func (c *countingTransport) RoundTrip(request *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	return http.DefaultTransport.RoundTrip(request)
}

func TestListIteratesEveryPageNewestFirst(t *testing.T) {
	own := startServerT(t, nil)
	ctx, client := testContext(t), own.client(t)
	var uploaded []string
	for i := 0; i < 5; i++ {
		image, err := client.Images.Upload(ctx, bytes.NewReader(fixture(t, "images/sample.png")), nil)
		if err != nil {
			t.Fatal(err)
		}
		uploaded = append(uploaded, image.ID)
	}
	newestFirst := []string{uploaded[4], uploaded[3], uploaded[2], uploaded[1], uploaded[0]}

	first, err := client.Images.ListPage(ctx, &progimage.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Images) != 2 || first.NextCursor == "" {
		t.Fatalf("first page: %d images, cursor %q", len(first.Images), first.NextCursor)
	}

	counter := &countingTransport{}
	counted := own.client(t, progimage.WithHTTPClient(&http.Client{Transport: counter}))
	var listed []string
	it := counted.Images.List(ctx, &progimage.ListOptions{Limit: 2})
	for it.Next() {
		listed = append(listed, it.Image().ID)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(listed, newestFirst) {
		t.Errorf("listed %v, want %v", listed, newestFirst)
	}
	if got := counter.requests.Load(); got != 3 {
		t.Errorf("%d pages fetched, want 3", got)
	}
	if it.Next() {
		t.Error("Next after the end returned true")
	}

	var rest []string
	resumed := client.Images.List(ctx, &progimage.ListOptions{Limit: 3, Cursor: first.NextCursor})
	for resumed.Next() {
		rest = append(rest, resumed.Image().ID)
	}
	if err := resumed.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rest, newestFirst[2:]) {
		t.Errorf("after the first page %v, want %v", rest, newestFirst[2:])
	}

	all, err := client.Images.ListPage(ctx, &progimage.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Images) != 5 || all.NextCursor != "" {
		t.Errorf("one big page: %d images, cursor %q", len(all.Images), all.NextCursor)
	}
}

func TestListStopsAtAnErrorAndReportsIt(t *testing.T) {
	client := shared.client(t)
	it := client.Images.List(testContext(t), &progimage.ListOptions{Cursor: "not-a-cursor"})
	if it.Next() {
		t.Fatal("a bad cursor listed an image")
	}
	apiErr := apiError(t, it.Err(), 400, progimage.CodeInvalidParameter)
	if apiErr.Param != "cursor" {
		t.Errorf("param %q, want cursor", apiErr.Param)
	}
}

func TestDeleteRemovesTheImageAndItsVariants(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	id := uploadPattern(t, client).ID
	webp := &progimage.Transform{Format: progimage.WebP, Operations: []progimage.Operation{progimage.Resize{Width: 8}}}
	readAll(t, mustDownload(t, client, id, webp))
	if err := client.Images.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Images.Get(ctx, id); !errors.Is(err, progimage.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	_, err := client.Images.Download(ctx, id, webp)
	apiError(t, err, 404, progimage.CodeNotFound)
	apiError(t, client.Images.Delete(ctx, id), 404, progimage.CodeNotFound)
}

func mustDownload(t *testing.T, client *progimage.Client, id string, transform *progimage.Transform) *progimage.Download {
	t.Helper()
	download, err := client.Images.Download(testContext(t), id, transform)
	if err != nil {
		t.Fatal(err)
	}
	return download
}

// site serves fixtures/images/sample.png at /pictures/remote.png on loopback.
func site(t *testing.T) *httptest.Server {
	t.Helper()
	png := fixture(t, "images/sample.png")
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pictures/remote.png" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(png)
	}))
	t.Cleanup(server.Close)
	return server
}

func TestUploadFromURLStoresTheFetchedImage(t *testing.T) {
	ctx, client, remote := testContext(t), shared.client(t), site(t)
	png := fixture(t, "images/sample.png")
	image, err := client.Images.UploadFromURL(ctx, remote.URL+"/pictures/remote.png", nil)
	if err != nil {
		t.Fatal(err)
	}
	if image.Format != progimage.PNG || image.Filename != "remote.png" || image.SHA256 != sha256Hex(png) {
		t.Errorf("fetched image %+v", image)
	}
	named, err := client.Images.UploadFromURL(ctx, remote.URL+"/pictures/remote.png", &progimage.UploadFromURLOptions{Filename: "renamed.png"})
	if err != nil {
		t.Fatal(err)
	}
	if named.Filename != "renamed.png" {
		t.Errorf("filename %q, want renamed.png", named.Filename)
	}
	_, err = client.Images.UploadFromURL(ctx, remote.URL+"/pictures/missing.png", nil)
	if apiErr := apiError(t, err, 422, progimage.CodeFetchFailed); apiErr.UpstreamStatus != 404 {
		t.Errorf("upstream status %d, want 404", apiErr.UpstreamStatus)
	}
}

func TestUploadFromURLIsRefusedOutsideTheAllowList(t *testing.T) {
	strict := startServerT(t, nil)
	_, err := strict.client(t).Images.UploadFromURL(testContext(t), site(t).URL+"/pictures/remote.png", nil)
	if apiErr := apiError(t, err, 400, progimage.CodeURLNotAllowed); apiErr.Param != "url" {
		t.Errorf("param %q, want url", apiErr.Param)
	}
	if !errors.Is(err, progimage.ErrURLNotAllowed) {
		t.Error("not ErrURLNotAllowed")
	}
}

// webpSize reads the size from a WebP header: lossy (VP8), lossless (VP8L) or extended
// (VP8X), since the standard library has no WebP decoder.
func webpSize(t *testing.T, data []byte) [2]int {
	t.Helper()
	if len(data) < 30 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		t.Fatalf("not a WebP: % x", data[:min(len(data), 16)])
	}
	switch string(data[12:16]) {
	case "VP8X":
		width := 1 + int(uint32(data[24])|uint32(data[25])<<8|uint32(data[26])<<16)
		height := 1 + int(uint32(data[27])|uint32(data[28])<<8|uint32(data[29])<<16)
		return [2]int{width, height}
	case "VP8L":
		bits := binary.LittleEndian.Uint32(data[21:25])
		return [2]int{1 + int(bits&0x3fff), 1 + int((bits>>14)&0x3fff)}
	case "VP8 ":
		return [2]int{int(binary.LittleEndian.Uint16(data[26:28]) & 0x3fff), int(binary.LittleEndian.Uint16(data[28:30]) & 0x3fff)}
	}
	t.Fatalf("unknown WebP chunk %q", data[12:16])
	return [2]int{}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func TestUploadManyRefusesNoFileOrMoreThanAHundred(t *testing.T) {
	ctx, client := testContext(t), shared.client(t)
	gif := fixture(t, "images/pattern.gif")
	many := make([]progimage.UploadFile, 101)
	for i := range many {
		many[i] = progimage.UploadFile{Reader: bytes.NewReader(gif)}
	}
	for _, files := range [][]progimage.UploadFile{nil, many} {
		_, err := client.Images.UploadMany(ctx, files, nil)
		if apiErr := apiError(t, err, 400, progimage.CodeInvalidParameter); apiErr.Param != "file" {
			t.Errorf("%d files: param %q, want file", len(files), apiErr.Param)
		}
	}
	hundred := make([]progimage.UploadFile, 100)
	for i := range hundred {
		hundred[i] = progimage.UploadFile{Reader: bytes.NewReader(gif)}
	}
	results, err := client.Images.UploadMany(ctx, hundred, nil)
	if err != nil || len(results) != 100 {
		t.Fatalf("100 files: %d results, %v", len(results), err)
	}
	for i, result := range results {
		if result.Image == nil || result.Image.Format != progimage.GIF {
			t.Fatalf("file %d: %+v", i, result)
		}
	}
}
