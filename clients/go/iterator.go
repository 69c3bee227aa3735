package progimage

import "context"

// pager walks the pages of a listing, one page in memory at a time.
type pager[T any] struct {
	ctx    context.Context
	fetch  func(ctx context.Context, cursor string) ([]T, string, error)
	cursor string
	items  []T
	index  int
	last   bool
	err    error
	item   T
}

// next moves to the next item, fetching pages until one has items or the last is read.
func (p *pager[T]) next() bool {
	for {
		if p.index < len(p.items) {
			p.item = p.items[p.index]
			p.index++
			return true
		}
		if p.last || p.err != nil {
			return false
		}
		items, cursor, err := p.fetch(p.ctx, p.cursor)
		if err != nil {
			p.err = err
			return false
		}
		p.items, p.index, p.cursor = items, 0, cursor
		p.last = cursor == ""
	}
}

// ImageIterator iterates over a listing of images; see ImagesService.List.
type ImageIterator struct {
	pager pager[Image]
}

// Next advances to the next image, fetching a page when needed. It returns false at the
// end of the listing or on an error (see Err).
func (it *ImageIterator) Next() bool { return it.pager.next() }

// Image returns the current image, after Next returned true.
func (it *ImageIterator) Image() *Image {
	image := it.pager.item
	return &image
}

// Err returns the error that stopped the iteration, or nil at the end of the listing.
func (it *ImageIterator) Err() error { return it.pager.err }

// JobIterator iterates over a listing of jobs; see JobsService.List.
type JobIterator struct {
	pager pager[Job]
}

// Next advances to the next job, fetching a page when needed. It returns false at the end
// of the listing or on an error (see Err).
func (it *JobIterator) Next() bool { return it.pager.next() }

// Job returns the current job (without items), after Next returned true.
func (it *JobIterator) Job() *Job {
	job := it.pager.item
	return &job
}

// Err returns the error that stopped the iteration, or nil at the end of the listing.
func (it *JobIterator) Err() error { return it.pager.err }
