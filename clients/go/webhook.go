package progimage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook delivery.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>".
	SignatureHeader = "ProgImage-Signature"
	// EventHeader names the event: "job.finished".
	EventHeader = "ProgImage-Event"
	// DeliveryHeader is "<job id>:<attempt>", the same for every retry of one attempt count.
	DeliveryHeader = "ProgImage-Delivery"
)

// EventJobFinished is the EventHeader of the webhook sent when a job ends.
const EventJobFinished = "job.finished"

// DefaultWebhookTolerance is how far a signature's time may be from now, either way, for
// a receiver that has no reason to choose another.
const DefaultWebhookTolerance = 5 * time.Minute

// Why VerifyWebhook refused a delivery; test with errors.Is.
var (
	// ErrWebhookMalformed: the header is not "t=<integer>" with at least one "v1=<hex>".
	ErrWebhookMalformed = errors.New("progimage: the webhook signature header is malformed")
	// ErrWebhookOutsideTolerance: the signature's time is further from now than the
	// tolerance, a replay or a skewed clock.
	ErrWebhookOutsideTolerance = errors.New("progimage: the webhook signature timestamp is outside the tolerance")
	// ErrWebhookMismatch: no v1 signature matches the body and secret.
	ErrWebhookMismatch = errors.New("progimage: no webhook signature matches")
)

// VerifyWebhook checks a delivery's ProgImage-Signature header against its raw body and
// the tenant's signing secret (Client.WebhookSecret), and returns nil when it is genuine.
//
// The header is "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>"; every
// attempt is signed afresh. It is accepted when its timestamp is within tolerance of now,
// either way inclusive (a negative tolerance counts as zero), and one of its v1 values
// matches, compared in constant time; several v1 values may be present (secret rotation)
// and other schemes are skipped. A header without exactly one t, or without any v1, is
// ErrWebhookMalformed; the time is checked before the signatures
// (ErrWebhookOutsideTolerance, then ErrWebhookMismatch). Pass the body exactly as
// received: re-encoded JSON has other bytes and does not match.
func VerifyWebhook(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var timestamp int64
	seenTimestamp := false
	var candidates []string
	for _, part := range strings.Split(header, ",") {
		key, value, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			return ErrWebhookMalformed
		}
		switch key {
		case "t":
			if seenTimestamp {
				return ErrWebhookMalformed
			}
			parsed, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return ErrWebhookMalformed
			}
			timestamp, seenTimestamp = parsed, true
		case "v1":
			candidates = append(candidates, value)
		}
		// Other schemes (a future v2) are skipped, so receivers keep working across upgrades.
	}
	if !seenTimestamp || len(candidates) == 0 {
		return ErrWebhookMalformed
	}
	if tolerance < 0 {
		tolerance = 0
	}
	if distance(now.Unix(), timestamp) > uint64(tolerance/time.Second) {
		return ErrWebhookOutsideTolerance
	}
	expected := webhookMAC(secret, timestamp, body)
	for _, candidate := range candidates {
		// A value that is not hex cannot match; hmac.Equal compares in constant time.
		if code, err := hex.DecodeString(candidate); err == nil && hmac.Equal(code, expected) {
			return nil
		}
	}
	return ErrWebhookMismatch
}

// SignWebhook returns the ProgImage-Signature value the service sends for body at
// timestamp (unix seconds), for testing a receiver.
func SignWebhook(secret string, timestamp int64, body []byte) string {
	return "t=" + strconv.FormatInt(timestamp, 10) + ",v1=" + hex.EncodeToString(webhookMAC(secret, timestamp, body))
}

// webhookMAC is HMAC-SHA256 keyed with the secret's UTF-8 bytes over "<t>.<body>", t in
// its canonical decimal form.
func webhookMAC(secret string, timestamp int64, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// distance is |a - b| without overflow.
func distance(a, b int64) uint64 {
	if a >= b {
		return uint64(a) - uint64(b)
	}
	return uint64(b) - uint64(a)
}
