package progimage_test

// The test harness: the real progimage-api binary on a free loopback port with a fresh data
// directory, started once for the package by TestMain (open mode) and on demand by tests
// that need other settings (API keys, strict URL rules, a small byte limit).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	// The decoders the tests check outputs with.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	progimage "github.com/progimage/progimage/clients/go"
)

// The shared server's settings: webhooks are signed with this master secret, and loopback
// URLs are allowed so tests can serve sources and receive webhooks.
const (
	masterSecret = "test-master-secret"
	// missingID is a well-formed UUIDv7 that no server has stored.
	missingID = "01890a5d-ac96-774b-bcce-b302099a8057"
)

// shared is the open-mode server of the package.
var shared *server

func TestMain(m *testing.M) {
	binary := serverBinary()
	if _, err := os.Stat(binary); err != nil {
		fmt.Fprintf(os.Stderr, "no progimage-api at %s: set PROGIMAGE_BIN or build it with `cargo build -p progimage-api`\n", binary)
		os.Exit(1)
	}
	var err error
	shared, err = startServer(map[string]string{
		"PROGIMAGE_WEBHOOK_SECRET": masterSecret,
		"PROGIMAGE_ALLOW_URLS":     "127.0.0.1",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	shared.stop()
	os.Exit(code)
}

// repoRoot is the repository's root: this package is clients/go.
func repoRoot() string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return root
}

// serverBinary is $PROGIMAGE_BIN, else progimage-api in $CARGO_TARGET_DIR or the
// repository's target directory (debug build).
func serverBinary() string {
	if explicit := os.Getenv("PROGIMAGE_BIN"); explicit != "" {
		return explicit
	}
	target := os.Getenv("CARGO_TARGET_DIR")
	if target == "" {
		target = filepath.Join(repoRoot(), "target")
	} else if !filepath.IsAbs(target) {
		target = filepath.Join(repoRoot(), target)
	}
	return filepath.Join(target, "debug", "progimage-api")
}

// server is one progimage-api process.
type server struct {
	url     string
	dir     string
	command *exec.Cmd
	exited  chan struct{}
	log     *os.File
}

// startServer starts the binary with env on top of a cleaned environment and returns once
// /readyz answers 200.
func startServer(env map[string]string) (*server, error) {
	dir, err := os.MkdirTemp("", "progimage-sdk-go-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	variables := map[string]string{
		"PROGIMAGE_DATA_DIR": dataDir,
		"PROGIMAGE_LISTEN":   fmt.Sprintf("127.0.0.1:%d", port),
		"PROGIMAGE_API_KEYS": "",
		"RUST_LOG":           "warn",
	}
	if level := os.Getenv("RUST_LOG"); level != "" {
		variables["RUST_LOG"] = level
	}
	for name, value := range env {
		variables[name] = value
	}
	command := exec.Command(serverBinary())
	command.Env = cleanEnvironment()
	for name, value := range variables {
		command.Env = append(command.Env, name+"="+value)
	}
	command.Stdout, command.Stderr = logFile, logFile
	if err := command.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{url: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir, command: command, exited: make(chan struct{}), log: logFile}
	go func() {
		_ = command.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(30 * time.Second); err != nil {
		tail := s.logTail()
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, tail)
	}
	return s, nil
}

// startServerT starts a server for one test and stops it when the test ends.
func startServerT(t *testing.T, env map[string]string) *server {
	t.Helper()
	s, err := startServer(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// cleanEnvironment is this process's environment without the server's own settings, so
// that nothing exported around the tests (a DATABASE_URL, PROGIMAGE_API_KEYS...) changes
// the server the tests expect.
func cleanEnvironment() []string {
	var kept []string
	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		if strings.HasPrefix(name, "PROGIMAGE_") || name == "DATABASE_URL" || name == "AMQP_URL" || name == "RUST_LOG" {
			continue
		}
		kept = append(kept, entry)
	}
	return kept
}

func freePort() (int, error) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer probe.Close()
	return probe.Addr().(*net.TCPAddr).Port, nil
}

func (s *server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	probe := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("progimage-api exited before it was ready (%v)", s.command.ProcessState)
		default:
		}
		if answer, err := probe.Get(s.url + "/readyz"); err == nil {
			answer.Body.Close()
			if answer.StatusCode == http.StatusOK {
				return nil
			}
		}
		// Polling a process that gives no other signal of readiness.
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("progimage-api at %s not ready within %v", s.url, limit)
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s) and deletes its data.
func (s *server) stop() {
	select {
	case <-s.exited:
	default:
		_ = s.command.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.command.Process.Kill()
			<-s.exited
		}
	}
	s.log.Close()
	os.RemoveAll(s.dir)
}

func (s *server) logTail() string {
	text, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if len(text) > 4000 {
		text = text[len(text)-4000:]
	}
	return string(text)
}

// client returns a client of the server with the given options.
func (s *server) client(t *testing.T, options ...progimage.Option) *progimage.Client {
	t.Helper()
	client, err := progimage.New(s.url, options...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// fixture returns a file of the repository's fixtures/ directory.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixturePath returns the path of a fixture.
func fixturePath(name string) string { return filepath.Join(repoRoot(), "fixtures", name) }

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// testContext is a context that ends with the test, at most a minute later.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// readAll reads and closes a download.
func readAll(t *testing.T, download *progimage.Download) []byte {
	t.Helper()
	defer download.Body.Close()
	var buffer bytes.Buffer
	if _, err := buffer.ReadFrom(download.Body); err != nil {
		t.Fatal(err)
	}
	return buffer.Bytes()
}

// decode decodes PNG, JPEG or GIF bytes (the formats of the standard library) and checks
// that they are of the format expected.
func decode(t *testing.T, data []byte, format string) image.Image {
	t.Helper()
	decoded, got, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding %d bytes: %v", len(data), err)
	}
	if got != format {
		t.Fatalf("decoded a %s, want a %s", got, format)
	}
	return decoded
}

// size returns an image's width and height.
func size(picture image.Image) [2]int {
	bounds := picture.Bounds()
	return [2]int{bounds.Dx(), bounds.Dy()}
}

// rgba is a colour as 8-bit channels.
type rgba struct{ R, G, B, A uint8 }

// at returns the 8-bit colour of a pixel, relative to the image's origin.
func at(picture image.Image, x, y int) rgba {
	bounds := picture.Bounds()
	c := color.NRGBAModel.Convert(picture.At(bounds.Min.X+x, bounds.Min.Y+y)).(color.NRGBA)
	return rgba{c.R, c.G, c.B, c.A}
}

// near reports whether two colours match within a lossy codec's tolerance, channel by
// channel.
func near(got, want rgba, tolerance int) bool {
	diff := func(a, b uint8) bool {
		d := int(a) - int(b)
		return d <= tolerance && d >= -tolerance
	}
	return diff(got.R, want.R) && diff(got.G, want.G) && diff(got.B, want.B) && diff(got.A, want.A)
}

// The quadrants of fixtures/images/pattern.*: red, green over blue, yellow (64x64).
var (
	red    = rgba{220, 30, 30, 255}
	green  = rgba{30, 200, 60, 255}
	blue   = rgba{40, 60, 220, 255}
	yellow = rgba{240, 220, 40, 255}
)

// checkQuadrants checks the colours at the centres of an image's four quadrants.
func checkQuadrants(t *testing.T, picture image.Image, topLeft, topRight, bottomLeft, bottomRight rgba, tolerance int) {
	t.Helper()
	w, h := size(picture)[0], size(picture)[1]
	points := []struct {
		name string
		x, y int
		want rgba
	}{
		{"top left", w / 4, h / 4, topLeft},
		{"top right", 3 * w / 4, h / 4, topRight},
		{"bottom left", w / 4, 3 * h / 4, bottomLeft},
		{"bottom right", 3 * w / 4, 3 * h / 4, bottomRight},
	}
	for _, point := range points {
		if got := at(picture, point.x, point.y); !near(got, point.want, tolerance) {
			t.Errorf("%s pixel (%d,%d) = %v, want %v", point.name, point.x, point.y, got, point.want)
		}
	}
}

// apiError asserts that err is an *APIError with the status and code, and returns it.
func apiError(t *testing.T, err error, status int, code progimage.ErrorCode) *progimage.APIError {
	t.Helper()
	if err == nil {
		t.Fatalf("the call succeeded, want %d %s", status, code)
	}
	var apiErr *progimage.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	if apiErr.Status != status || apiErr.Code != code {
		t.Fatalf("got %d %s (%v), want %d %s", apiErr.Status, apiErr.Code, err, status, code)
	}
	if apiErr.Type != "urn:progimage:problem:"+string(code) {
		t.Errorf("type %q, want urn:progimage:problem:%s", apiErr.Type, code)
	}
	if apiErr.RequestID == "" || apiErr.RequestID != apiErr.Header.Get("X-Request-Id") {
		t.Errorf("request id %q, x-request-id %q", apiErr.RequestID, apiErr.Header.Get("X-Request-Id"))
	}
	return apiErr
}
