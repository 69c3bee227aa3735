package progimage

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Fit is how a resize fits the target box.
type Fit string

// The fits of a resize.
const (
	// FitContain keeps the image inside the box, aspect kept (the default).
	FitContain Fit = "contain"
	// FitCover fills the box, then crops what is over, as Gravity says.
	FitCover Fit = "cover"
	// FitFill stretches the image to the box.
	FitFill Fit = "fill"
)

// Gravity is which part of the image a cover resize keeps.
type Gravity string

// The gravities of a cover resize.
const (
	// GravityCentre keeps the centre (the default).
	GravityCentre Gravity = "centre"
	// GravityNorth keeps the top.
	GravityNorth Gravity = "north"
	// GravitySouth keeps the bottom.
	GravitySouth Gravity = "south"
	// GravityEast keeps the right.
	GravityEast Gravity = "east"
	// GravityWest keeps the left.
	GravityWest Gravity = "west"
	// GravitySmart keeps the most detailed part.
	GravitySmart Gravity = "smart"
)

// FlipAxis is a mirror axis.
type FlipAxis string

// The axes of a flip.
const (
	// FlipHorizontal mirrors left-right ("h").
	FlipHorizontal FlipAxis = "h"
	// FlipVertical mirrors top-bottom ("v").
	FlipVertical FlipAxis = "v"
)

// MaskShape is the shape of a mask step.
type MaskShape string

// The mask shapes.
const (
	// MaskCircle is a circle of diameter the shorter side, centred.
	MaskCircle MaskShape = "circle"
	// MaskEllipse is the ellipse inscribed in the image.
	MaskEllipse MaskShape = "ellipse"
	// MaskRounded rounds the corners by Mask.Radius output pixels.
	MaskRounded MaskShape = "rounded"
)

// SVGMode is how a raster becomes SVG.
type SVGMode string

// The ways a raster becomes SVG.
const (
	// SVGTrace traces colour paths (the default).
	SVGTrace SVGMode = "trace"
	// SVGEmbed wraps the raster losslessly in an <image> element.
	SVGEmbed SVGMode = "embed"
)

// Operation is one step of a pipeline: Resize, Crop, Rotate, Flip, Grayscale, Blur, Sharpen,
// Brightness, Contrast or Mask. Steps run in the order given.
type Operation interface {
	// name is the op's name in JSON and pipeline text.
	name() string
	// keys are the op's JSON keys and values in the order they are written, values already
	// in their text form.
	keys() []keyValue
	// query is the op's query-form parameters, in the order the query form lists them.
	query() []keyValue
}

type keyValue struct {
	key, value string
	// number marks a value JSON writes bare rather than as a string.
	number bool
}

func str(key, value string) keyValue { return keyValue{key: key, value: value} }
func num(key, value string) keyValue { return keyValue{key: key, value: value, number: true} }
func integer(key string, v int) keyValue {
	return num(key, strconv.Itoa(v))
}
func float(key string, v float64) keyValue {
	return num(key, formatFloat(v))
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Bool returns a pointer to v, for the optional booleans of Resize and Transform.
func Bool(v bool) *bool { return &v }

// Resize scales the image into a box of Width x Height pixels; give at least one side.
type Resize struct {
	// Width is the box's width in px (1..16384), or 0 to derive it from Height.
	Width int
	// Height is the box's height in px (1..16384), or 0 to derive it from Width.
	Height int
	// Fit is how the image fits the box; "" is contain.
	Fit Fit
	// Gravity is what a cover fit keeps; "" is centre.
	Gravity Gravity
	// Enlarge allows scaling up: nil leaves the service's default (false, true for SVG sources).
	Enlarge *bool
}

func (Resize) name() string { return "resize" }
func (r Resize) keys() []keyValue {
	var kv []keyValue
	if r.Width != 0 {
		kv = append(kv, integer("width", r.Width))
	}
	if r.Height != 0 {
		kv = append(kv, integer("height", r.Height))
	}
	if r.Fit != "" {
		kv = append(kv, str("fit", string(r.Fit)))
	}
	if r.Gravity != "" {
		kv = append(kv, str("gravity", string(r.Gravity)))
	}
	if r.Enlarge != nil {
		kv = append(kv, num("enlarge", strconv.FormatBool(*r.Enlarge)))
	}
	return kv
}
func (r Resize) query() []keyValue {
	kv := r.keys()
	for i := range kv {
		switch kv[i].key {
		case "width":
			kv[i].key = "w"
		case "height":
			kv[i].key = "h"
		}
	}
	return kv
}

// Crop cuts a rectangle (px, after auto-orientation), clamped to the image.
type Crop struct {
	// X is the left edge.
	X int
	// Y is the top edge.
	Y int
	// Width is the rectangle's width.
	Width int
	// Height is the rectangle's height.
	Height int
}

func (Crop) name() string { return "crop" }
func (c Crop) keys() []keyValue {
	return []keyValue{integer("x", c.X), integer("y", c.Y), integer("width", c.Width), integer("height", c.Height)}
}
func (c Crop) query() []keyValue {
	return []keyValue{str("crop", strings.Join([]string{
		strconv.Itoa(c.X), strconv.Itoa(c.Y), strconv.Itoa(c.Width), strconv.Itoa(c.Height),
	}, ","))}
}

// Rotate turns the image clockwise by Degrees (any finite number, modulo 360; negative
// turns counter-clockwise). Angles other than right angles grow the canvas.
type Rotate struct {
	// Degrees is the clockwise angle.
	Degrees float64
}

func (Rotate) name() string        { return "rotate" }
func (r Rotate) keys() []keyValue  { return []keyValue{float("degrees", r.Degrees)} }
func (r Rotate) query() []keyValue { return []keyValue{float("rotate", r.Degrees)} }

// Flip mirrors the image along an axis.
type Flip struct {
	// Axis is FlipHorizontal or FlipVertical.
	Axis FlipAxis
}

func (Flip) name() string        { return "flip" }
func (f Flip) keys() []keyValue  { return []keyValue{str("axis", string(f.Axis))} }
func (f Flip) query() []keyValue { return []keyValue{str("flip", string(f.Axis))} }

// Grayscale removes the colour.
type Grayscale struct{}

func (Grayscale) name() string      { return "grayscale" }
func (Grayscale) keys() []keyValue  { return nil }
func (Grayscale) query() []keyValue { return []keyValue{str("grayscale", "true")} }

// Blur is a Gaussian blur of Sigma (0..100; 0 is a no-op).
type Blur struct {
	// Sigma is the blur's standard deviation in px.
	Sigma float64
}

func (Blur) name() string        { return "blur" }
func (b Blur) keys() []keyValue  { return []keyValue{float("sigma", b.Sigma)} }
func (b Blur) query() []keyValue { return []keyValue{float("blur", b.Sigma)} }

// Sharpen is an unsharp mask of Sigma (0..100; 0 is a no-op).
type Sharpen struct {
	// Sigma is the sharpening radius.
	Sigma float64
}

func (Sharpen) name() string        { return "sharpen" }
func (s Sharpen) keys() []keyValue  { return []keyValue{float("sigma", s.Sigma)} }
func (s Sharpen) query() []keyValue { return []keyValue{float("sharpen", s.Sigma)} }

// Brightness scales brightness by 1 + Amount/100 (Amount -100..100).
type Brightness struct {
	// Amount is the change, -100..100.
	Amount float64
}

func (Brightness) name() string        { return "brightness" }
func (b Brightness) keys() []keyValue  { return []keyValue{float("amount", b.Amount)} }
func (b Brightness) query() []keyValue { return []keyValue{float("brightness", b.Amount)} }

// Contrast scales contrast by 1 + Amount/100 (Amount -100..100).
type Contrast struct {
	// Amount is the change, -100..100.
	Amount float64
}

func (Contrast) name() string        { return "contrast" }
func (c Contrast) keys() []keyValue  { return []keyValue{float("amount", c.Amount)} }
func (c Contrast) query() []keyValue { return []keyValue{float("contrast", c.Amount)} }

// Mask applies an alpha mask: a Shape (with Radius for MaskRounded), or the luminance of
// another image of the caller's tenant (ImageID), stretched to the output. Formats without
// alpha flatten onto the background.
type Mask struct {
	// Shape is the mask's shape; leave it "" when ImageID is set.
	Shape MaskShape
	// Radius is the corner radius of MaskRounded, in output px.
	Radius int
	// ImageID is the id of a mask image, instead of a Shape.
	ImageID string
}

func (Mask) name() string { return "mask" }
func (m Mask) keys() []keyValue {
	if m.ImageID != "" {
		return []keyValue{str("image_id", m.ImageID)}
	}
	kv := []keyValue{str("shape", string(m.Shape))}
	if m.Shape == MaskRounded {
		kv = append(kv, integer("radius", m.Radius))
	}
	return kv
}
func (m Mask) query() []keyValue {
	switch {
	case m.ImageID != "":
		return []keyValue{str("mask", m.ImageID)}
	case m.Shape == MaskRounded:
		return []keyValue{str("mask", "rounded:"+strconv.Itoa(m.Radius))}
	default:
		return []keyValue{str("mask", string(m.Shape))}
	}
}

// queryOrder is the fixed order in which the service applies the query form's steps.
var queryOrder = []string{"crop", "resize", "rotate", "flip", "grayscale", "blur", "sharpen", "brightness", "contrast", "mask"}

// Transform is what an output is made with: pipeline steps and output settings. The zero
// value (or nil) asks for nothing: the original, or a plain conversion to Format.
type Transform struct {
	// Operations are the steps, run in the order given.
	Operations []Operation
	// Format is the output format. Variant downloads and URLs need it whenever anything else
	// is set; elsewhere "" keeps the source's format.
	Format Format
	// Quality is the quality of lossy encoders, 1..100; 0 leaves the encoder's default.
	Quality int
	// Lossless asks for lossless output where the format has it (WebP, AVIF); nil leaves it unset.
	Lossless *bool
	// Background is the RRGGBB or RRGGBBAA colour behind transparency for formats without
	// alpha, and of the corners a rotation adds; "" is the default (ffffff).
	Background string
	// Strip set to false keeps EXIF and XMP (with Orientation 1); nil strips them.
	Strip *bool
	// SVG is how a raster becomes SVG; "" is trace.
	SVG SVGMode
}

// ErrFormatRequired is returned for a variant URL or download that sets steps or output
// settings without an output Format: the format is the variant path's extension.
var ErrFormatRequired = errors.New("progimage: a transformed image needs an output Format")

// empty reports whether the transform asks for anything besides its format.
func (t *Transform) empty() bool {
	return t == nil || (t.Operations == nil && t.Quality == 0 && t.Lossless == nil &&
		t.Background == "" && t.Strip == nil && t.SVG == "")
}

// queryForm reports whether the steps can be written as the query form's parameters with
// the same meaning: each op at most once, in the service's fixed order.
func queryForm(ops []Operation) bool {
	position := 0
	for _, op := range ops {
		found := false
		for position < len(queryOrder) {
			if queryOrder[position] == op.name() {
				found = true
				position++
				break
			}
			position++
		}
		if !found {
			return false
		}
	}
	return true
}

// values returns the query parameters of the steps and output settings, format excluded.
// Steps that the query form applies in the same order are written as its parameters
// (w=300&grayscale=true), any other sequence as the ops pipeline.
func (t *Transform) values() []keyValue {
	if t == nil {
		return nil
	}
	var kv []keyValue
	if queryForm(t.Operations) {
		for _, op := range t.Operations {
			kv = append(kv, op.query()...)
		}
	} else {
		kv = append(kv, str("ops", Pipeline(t.Operations...)))
	}
	if t.Quality != 0 {
		kv = append(kv, integer("q", t.Quality))
	}
	if t.Lossless != nil {
		kv = append(kv, str("lossless", strconv.FormatBool(*t.Lossless)))
	}
	if t.Background != "" {
		kv = append(kv, str("bg", t.Background))
	}
	if t.Strip != nil {
		kv = append(kv, str("strip", strconv.FormatBool(*t.Strip)))
	}
	if t.SVG != "" {
		kv = append(kv, str("svg", string(t.SVG)))
	}
	return kv
}

// Pipeline returns the ops text of the steps: each "name" or "name:key=value,...", joined by
// "|", with the JSON keys ("rotate:degrees=90|resize:width=300,fit=cover|grayscale").
func Pipeline(ops ...Operation) string {
	steps := make([]string, len(ops))
	for i, op := range ops {
		pairs := op.keys()
		if len(pairs) == 0 {
			steps[i] = op.name()
			continue
		}
		texts := make([]string, len(pairs))
		for j, pair := range pairs {
			texts[j] = pair.key + "=" + pair.value
		}
		steps[i] = op.name() + ":" + strings.Join(texts, ",")
	}
	return strings.Join(steps, "|")
}

// encodeQuery writes parameters in the order given. Values are escaped as query components,
// except "," and ":", which are legal in a query and keep crop and mask values readable.
func encodeQuery(params []keyValue) string {
	var text strings.Builder
	for i, param := range params {
		if i > 0 {
			text.WriteByte('&')
		}
		text.WriteString(escapeQuery(param.key))
		text.WriteByte('=')
		text.WriteString(escapeQuery(param.value))
	}
	return text.String()
}

func escapeQuery(value string) string {
	escaped := url.QueryEscape(value)
	escaped = strings.ReplaceAll(escaped, "+", "%20")
	escaped = strings.ReplaceAll(escaped, "%2C", ",")
	return strings.ReplaceAll(escaped, "%3A", ":")
}

// operationsJSON is the JSON form of a list of steps.
type operationsJSON []Operation

// MarshalJSON writes each step as {"op": name, keys...}.
func (ops operationsJSON) MarshalJSON() ([]byte, error) {
	var out []byte
	out = append(out, '[')
	for i, op := range ops {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"op":`...)
		name, _ := json.Marshal(op.name())
		out = append(out, name...)
		for _, pair := range op.keys() {
			key, _ := json.Marshal(pair.key)
			out = append(out, ',')
			out = append(out, key...)
			out = append(out, ':')
			if pair.number {
				out = append(out, pair.value...)
			} else {
				value, _ := json.Marshal(pair.value)
				out = append(out, value...)
			}
		}
		out = append(out, '}')
	}
	return append(out, ']'), nil
}

// settingsJSON returns the transform's JSON fields (operations, format and the output
// settings under their JSON names) for /v1/transform and jobs; unset ones are left out, so
// a job item without them takes the job's.
func (t *Transform) settingsJSON() map[string]interface{} {
	fields := map[string]interface{}{}
	if t == nil {
		return fields
	}
	if t.Operations != nil {
		fields["operations"] = operationsJSON(t.Operations)
	}
	if t.Format != "" {
		fields["format"] = t.Format
	}
	if t.Quality != 0 {
		fields["quality"] = t.Quality
	}
	if t.Lossless != nil {
		fields["lossless"] = *t.Lossless
	}
	if t.Background != "" {
		fields["background"] = t.Background
	}
	if t.Strip != nil {
		fields["strip"] = *t.Strip
	}
	if t.SVG != "" {
		fields["svg"] = t.SVG
	}
	return fields
}
