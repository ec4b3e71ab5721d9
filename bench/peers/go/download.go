package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The same limits as sluice's http_fetch defaults, so that neither side gives up sooner.
const (
	connectTimeout = 5 * time.Second
	attemptTimeout = 30 * time.Second
	maxAttempts    = 4
	maxImageBytes  = 10 << 20
	maxRedirects   = 5
)

// image is what a row keeps of its downloaded picture.
type image struct {
	sha256 string
	bytes  int64
}

// fetch is one distinct URL's download; rows naming the same URL share it.
type fetch struct {
	done  chan struct{} // closed when the fields below are final
	img   image
	ok    bool  // false: the image is unusable and its rows are rejected
	fatal error // the run must stop (cancelled, disk full, ...)
}

// fetcher downloads images with bounded concurrency (its callers are the C workers) and stores
// each one under the image directory by its SHA-256.
type fetcher struct {
	client *http.Client
	store  *imageStore

	mu   sync.Mutex
	urls map[string]*fetch
}

// newClient returns a client whose transport keeps up to c connections to one host open and
// reusable: http.DefaultTransport keeps only 2 idle connections per host and 100 in all, which
// would make most of c workers dial a new connection for every image.
func newClient(c int) *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          c,
		MaxIdleConnsPerHost:   c,
		MaxConnsPerHost:       c,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   connectTimeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

func newFetcher(c int, dir string) (*fetcher, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &fetcher{client: newClient(c), store: &imageStore{dir: dir}, urls: make(map[string]*fetch)}, nil
}

// get returns the image at url, downloading it only if no other caller has: the first caller of a
// URL downloads it and the others wait for that download. downloaded tells the first caller apart,
// so that each image is counted once.
func (f *fetcher) get(ctx context.Context, url string) (img image, ok, downloaded bool, err error) {
	f.mu.Lock()
	fe, seen := f.urls[url]
	if !seen {
		fe = &fetch{done: make(chan struct{})}
		f.urls[url] = fe
	}
	f.mu.Unlock()
	if seen {
		select {
		case <-fe.done:
			return fe.img, fe.ok, false, fe.fatal
		case <-ctx.Done():
			return image{}, false, false, ctx.Err()
		}
	}
	fe.img, fe.ok, fe.fatal = f.download(ctx, url)
	close(fe.done)
	return fe.img, fe.ok, fe.ok, fe.fatal
}

// errRetry marks a failure worth another attempt: a connection error, a timeout, 5xx or 429.
type errRetry struct{ err error }

func (e errRetry) Error() string { return e.err.Error() }

func (f *fetcher) download(ctx context.Context, url string) (image, bool, error) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		body, err := f.attempt(ctx, url)
		if ctx.Err() != nil {
			return image{}, false, ctx.Err()
		}
		var retry errRetry
		if err == nil {
			img, ok, err := f.store.put(body.Bytes())
			putBuffer(body)
			return img, ok, err
		} else if !errors.As(err, &retry) || attempt == maxAttempts {
			return image{}, false, nil
		}
		select {
		case <-time.After(backoff):
			backoff *= 2
		case <-ctx.Done():
			return image{}, false, ctx.Err()
		}
	}
}

// attempt makes one GET and returns the whole body of a 200 answer.
func (f *fetcher) attempt(ctx context.Context, url string) (*bytes.Buffer, error) {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, errRetry{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Reading a short error body lets the connection go back to the pool.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		err := fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return nil, errRetry{err}
		}
		return nil, err
	}
	if resp.ContentLength > maxImageBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", url, resp.ContentLength, maxImageBytes)
	}
	buf := getBuffer()
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	// One byte past the limit tells a body that is too large from one that is exactly the limit.
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxImageBytes+1)); err != nil {
		putBuffer(buf)
		return nil, errRetry{err}
	}
	if buf.Len() > maxImageBytes {
		putBuffer(buf)
		return nil, fmt.Errorf("%s: more than %d bytes", url, maxImageBytes)
	}
	return buf, nil
}

// Bodies are read into pooled buffers: with hundreds of downloads in flight, fresh buffers for
// every image would keep the garbage collector busy.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // let an unusually large buffer go rather than pin it in the pool
	}
	b.Reset()
	buffers.Put(b)
}

// imageExt returns the file extension for a body that starts with a JPEG, PNG, GIF or WebP
// signature, and "" for anything else.
func imageExt(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff:
		return "jpg"
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "png"
	case len(b) >= 6 && (string(b[:6]) == "GIF87a" || string(b[:6]) == "GIF89a"):
		return "gif"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

// imageStore writes images to <dir>/<first two hex digits>/<sha256>.<ext>.
type imageStore struct {
	dir     string
	folders sync.Map // prefixes whose folder exists, to skip a MkdirAll per image
}

// put stores one body. ok is false for a body that is not an image; err is a failure to write,
// which ends the run.
func (s *imageStore) put(body []byte) (img image, ok bool, err error) {
	ext := imageExt(body)
	if ext == "" {
		return image{}, false, nil
	}
	sum := sha256.Sum256(body)
	name := hex.EncodeToString(sum[:])
	img = image{sha256: name, bytes: int64(len(body))}
	folder := filepath.Join(s.dir, name[:2])
	path := filepath.Join(folder, name+"."+ext)
	// Files are named by their content, so one that exists already holds these very bytes.
	if _, err := os.Stat(path); err == nil {
		return img, true, nil
	}
	if _, made := s.folders.Load(name[:2]); !made {
		if err := os.MkdirAll(folder, 0o755); err != nil {
			return image{}, false, err
		}
		s.folders.Store(name[:2], struct{}{})
	}
	// A temporary file renamed into place: a reader never sees half an image, even after a crash.
	tmp, err := os.CreateTemp(folder, name+".*.tmp")
	if err != nil {
		return image{}, false, err
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return image{}, false, err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return image{}, false, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return image{}, false, err
	}
	return img, true, nil
}
