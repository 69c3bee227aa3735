// Package progimage is a client of the ProgImage HTTP API v1: store images, read them back
// in any format with transformations, transform without storing, run bulk jobs and verify
// their signed webhooks.
//
// Every call takes a context.Context first. Errors the service answers are *APIError
// values carrying the RFC 9457 problem document (Status, Code, Title, Detail, Param,
// RequestID), usable with errors.As, and matching the code's sentinel with errors.Is:
//
//	client, err := progimage.New("http://127.0.0.1:8080", progimage.WithAPIKey(key))
//	image, err := client.Images.Upload(ctx, file, &progimage.UploadOptions{Filename: "cat.jpg"})
//	if errors.Is(err, progimage.ErrMediaTypeMismatch) { ... }
//
// The package uses the standard library only.
package progimage
