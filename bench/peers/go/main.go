// Command peer imports a supplier's product feed into PostgreSQL the way a Go programmer would
// write it by hand: a pipeline of goroutines joined by bounded channels, a pool of download
// workers, a context that cancels everything on timeout or on the first fatal error, and batched
// upserts.
//
//	peer story -input feed.csv -image-dir DIR -concurrency C -batch 1000 -timeout 10m
//	peer downloads -input urls.txt -image-dir DIR -concurrency C -timeout 10m
//
// Both print one line of JSON with their counts and exit 0 when every input line was accounted
// for. story reads the connection string from PEER_DB.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "story":
		os.Exit(runStory(os.Args[2:]))
	case "downloads":
		os.Exit(runDownloads(os.Args[2:]))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: peer story -input FEED.csv -image-dir DIR [-concurrency C] [-batch N] [-timeout D]")
	fmt.Fprintln(os.Stderr, "       peer downloads -input URLS.txt -image-dir DIR [-concurrency C] [-timeout D]")
	os.Exit(2)
}

// options are the flags both modes share.
type options struct {
	input, imageDir string
	concurrency     int
	batch           int
	timeout         time.Duration
}

func parseFlags(mode string, args []string, withBatch bool) options {
	var o options
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	fs.StringVar(&o.input, "input", "", "input file")
	fs.StringVar(&o.imageDir, "image-dir", "", "folder the images are stored in")
	fs.IntVar(&o.concurrency, "concurrency", 64, "downloads in flight at once")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "time for the whole run")
	if withBatch {
		fs.IntVar(&o.batch, "batch", 1000, "rows per database transaction")
	}
	fs.Parse(args)
	if o.input == "" || o.imageDir == "" || o.concurrency < 1 || (withBatch && o.batch < 1) || fs.NArg() > 0 {
		usage()
	}
	return o
}

// group runs the stages of a pipeline; the first one to fail cancels the context they all share,
// which unblocks every other stage.
type group struct {
	wg     sync.WaitGroup
	once   sync.Once
	err    error
	cancel context.CancelFunc
}

func (g *group) run(stage func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := stage(); err != nil {
			g.once.Do(func() {
				g.err = err
				g.cancel()
			})
		}
	}()
}

func (g *group) wait() error {
	g.wg.Wait()
	return g.err
}

// send hands v on unless the run has been cancelled, so that no stage blocks forever on a
// channel whose reader is gone.
func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type storyResult struct {
	Mode     string  `json:"mode"`
	Rows     int64   `json:"rows"`
	Stored   int64   `json:"stored"`
	Rejected int64   `json:"rejected"`
	Images   int64   `json:"images"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}

type storyCounts struct {
	rows, stored, rejected, images atomic.Int64
}

func runStory(args []string) int {
	o := parseFlags("story", args, true)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var n storyCounts
	err := story(ctx, o, &n)
	if err == nil && n.stored.Load()+n.rejected.Load() != n.rows.Load() {
		err = fmt.Errorf("%d rows read but %d stored and %d rejected", n.rows.Load(), n.stored.Load(), n.rejected.Load())
	}
	res := storyResult{Mode: "story", Rows: n.rows.Load(), Stored: n.stored.Load(), Rejected: n.rejected.Load(),
		Images: n.images.Load(), Seconds: seconds(start)}
	return finish(&res, &res.Error, err, o.timeout)
}

// batch is a set of products with distinct SKUs; rows counts the feed rows it stands for, which is
// more when a SKU came twice (the later row wins, as two upserts in a row would have it).
type batch struct {
	products []*product
	rows     int64
}

// story runs reader -> validate/price -> C download workers -> batcher -> DB writer.
func story(ctx context.Context, o options, n *storyCounts) error {
	file, err := os.Open(o.input)
	if err != nil {
		return err
	}
	defer file.Close()
	feed, err := newFeedReader(file)
	if err != nil {
		return fmt.Errorf("%s: %w", o.input, err)
	}
	db, err := openStore(ctx, os.Getenv("PEER_DB"))
	if err != nil {
		return err
	}
	defer db.close()
	images, err := newFetcher(o.concurrency, o.imageDir)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &group{cancel: cancel}
	// Every channel is bounded: a fast reader waits for slow downloads instead of holding the
	// whole feed in memory.
	records := make(chan [len(columns)]string, 1024)
	valid := make(chan *product, o.concurrency)
	fetched := make(chan *product, o.concurrency)
	batches := make(chan batch, 1) // one batch is built while the previous one is written

	g.run(func() error { // reader
		defer close(records)
		for {
			cells, ok, err := feed.next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", o.input, err)
			}
			n.rows.Add(1)
			if !ok {
				n.rejected.Add(1)
				continue
			}
			if err := send(ctx, records, cells); err != nil {
				return err
			}
		}
	})

	g.run(func() error { // validate and price
		defer close(valid)
		for cells := range records {
			p, ok := validate(cells)
			if !ok {
				n.rejected.Add(1)
				continue
			}
			if err := send(ctx, valid, p); err != nil {
				return err
			}
		}
		return nil
	})

	var workers sync.WaitGroup
	for i := 0; i < o.concurrency; i++ {
		workers.Add(1)
		g.run(func() error { // download
			defer workers.Done()
			for p := range valid {
				if p.imageURL != "" {
					img, ok, first, err := images.get(ctx, p.imageURL)
					if err != nil {
						return err
					}
					if !ok {
						n.rejected.Add(1) // on_failure: reject
						continue
					}
					if first {
						n.images.Add(1)
					}
					p.image = img
				}
				if err := send(ctx, fetched, p); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.run(func() error {
		workers.Wait()
		close(fetched)
		return nil
	})

	g.run(func() error { // batcher
		defer close(batches)
		b := batch{products: make([]*product, 0, o.batch)}
		index := make(map[string]int, o.batch)
		for p := range fetched {
			// One INSERT ... ON CONFLICT cannot touch the same row twice, so a repeated SKU
			// replaces its earlier row in the batch.
			if i, dup := index[p.sku]; dup {
				b.products[i] = p
			} else {
				index[p.sku] = len(b.products)
				b.products = append(b.products, p)
			}
			b.rows++
			if len(b.products) == o.batch {
				if err := send(ctx, batches, b); err != nil {
					return err
				}
				b = batch{products: make([]*product, 0, o.batch)}
				index = make(map[string]int, o.batch)
			}
		}
		if len(b.products) > 0 {
			return send(ctx, batches, b)
		}
		return nil
	})

	g.run(func() error { // database writer
		for b := range batches {
			if err := db.write(ctx, b.products); err != nil {
				return err
			}
			n.stored.Add(b.rows)
		}
		return nil
	})

	return g.wait()
}

type downloadsResult struct {
	Mode    string  `json:"mode"`
	URLs    int64   `json:"urls"`
	OK      int64   `json:"ok"`
	Failed  int64   `json:"failed"`
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

type downloadCounts struct {
	urls, ok, failed atomic.Int64
}

func runDownloads(args []string) int {
	o := parseFlags("downloads", args, false)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var n downloadCounts
	err := downloads(ctx, o, &n)
	if err == nil && n.ok.Load()+n.failed.Load() != n.urls.Load() {
		err = fmt.Errorf("%d URLs read but %d downloaded and %d failed", n.urls.Load(), n.ok.Load(), n.failed.Load())
	}
	res := downloadsResult{Mode: "downloads", URLs: n.urls.Load(), OK: n.ok.Load(), Failed: n.failed.Load(),
		Seconds: seconds(start)}
	return finish(&res, &res.Error, err, o.timeout)
}

// downloads runs the download stage alone: reader -> C download workers.
func downloads(ctx context.Context, o options, n *downloadCounts) error {
	file, err := os.Open(o.input)
	if err != nil {
		return err
	}
	defer file.Close()
	images, err := newFetcher(o.concurrency, o.imageDir)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &group{cancel: cancel}
	urls := make(chan string, o.concurrency)

	g.run(func() error { // reader: one URL a line, blank lines skipped
		defer close(urls)
		sc := bufio.NewScanner(file)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			u := strings.TrimSpace(sc.Text())
			if u == "" {
				continue
			}
			n.urls.Add(1)
			if err := send(ctx, urls, u); err != nil {
				return err
			}
		}
		return sc.Err()
	})

	for i := 0; i < o.concurrency; i++ {
		g.run(func() error { // download
			for u := range urls {
				if !validURL(u) {
					n.failed.Add(1)
					continue
				}
				_, ok, _, err := images.get(ctx, u)
				if err != nil {
					return err
				}
				if ok {
					n.ok.Add(1)
				} else {
					n.failed.Add(1)
				}
			}
			return nil
		})
	}

	return g.wait()
}

func seconds(start time.Time) float64 {
	return math.Round(time.Since(start).Seconds()*1000) / 1000
}

// finish prints the result line and returns the exit code: 0, or 1 after a fatal error, which
// also goes to standard error and into the line's "error" field.
func finish(res any, errField *string, err error, timeout time.Duration) int {
	code := 0
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s", timeout)
		}
		fmt.Fprintln(os.Stderr, "peer:", err)
		*errField = err.Error()
		code = 1
	}
	line, _ := json.Marshal(res)
	fmt.Println(string(line))
	return code
}
