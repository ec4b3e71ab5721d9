package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// The rules of config/suppliers/acme_local_images.yaml, written out as code: this program has no
// configuration language, which is what a hand-written importer usually looks like.
var columns = [...]string{"SKU", "Name", "Category", "Price", "Stock", "Image"}

const (
	colSKU = iota
	colName
	colCategory
	colPrice
	colStock
	colImage
)

const (
	currency     = "EUR"
	maxPrice     = 1000000 // whole euros
	maxScale     = 18      // fractional digits a decimal may have, as in sluice
	skuMaxLen    = 64
	titleMaxLen  = 200
	centsPerUnit = 100
)

// A tax rate as an exact fraction, so that no price ever passes through a float.
type rate struct{ num, den int64 }

var (
	standardRate = rate{20, 100}  // 20%
	reducedRate  = rate{55, 1000} // 5.5% for books and food
)

var taxByCategory = map[string]rate{
	"tools":  standardRate,
	"garden": standardRate,
	"books":  reducedRate,
	"food":   reducedRate,
}

// product is one valid, priced row on its way to the database.
type product struct {
	sku, title, category string
	net, tax, gross      int64 // minor units (cents)
	stock                int32
	hasStock             bool
	imageURL             string
	image                image // filled in by the download stage
}

// feedReader yields the records of a CSV feed with its header checked and its columns mapped.
type feedReader struct {
	csv   *csv.Reader
	index [len(columns)]int // feed column of each of our columns
	width int               // fields in the header; a row with another count is ragged
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

func newFeedReader(r io.Reader) (*feedReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	// Excel writes a byte-order mark that would otherwise stick to the first column's name.
	if head, err := br.Peek(3); err == nil && bytes.Equal(head, utf8BOM) {
		br.Discard(3)
	}
	c := csv.NewReader(br)
	c.FieldsPerRecord = -1 // ragged rows are rejected one by one, not fatal
	c.ReuseRecord = true   // the strings are copied out of each record before the next Read
	header, err := c.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	f := &feedReader{csv: c, width: len(header)}
	for i, want := range columns {
		f.index[i] = -1
		for j, got := range header {
			if strings.TrimSpace(got) == want {
				f.index[i] = j
				break
			}
		}
		if f.index[i] < 0 {
			return nil, fmt.Errorf("the header has no column %q", want)
		}
	}
	return f, nil
}

// next returns the next row's cells in our column order, or ok=false for a row that cannot be read
// (bad quoting, wrong field count, invalid UTF-8). err is io.EOF at the end and fatal otherwise.
func (f *feedReader) next() (cells [len(columns)]string, ok bool, err error) {
	rec, err := f.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return cells, false, nil // a malformed row is the supplier's mistake: reject it and go on
		}
		return cells, false, err
	}
	if len(rec) != f.width {
		return cells, false, nil
	}
	for i, j := range f.index {
		if !utf8.ValidString(rec[j]) {
			return cells, false, nil
		}
		cells[i] = rec[j]
	}
	return cells, true, nil
}

// value trims a cell and reports whether it holds a value; "" and "N/A" are the feed's nulls.
func value(cell string) (string, bool) {
	s := strings.Trim(cell, " \t")
	if s == "" || s == "N/A" {
		return "", false
	}
	return s, true
}

// validate checks one row against the supplier's rules and prices it; ok is false for a rejected row.
func validate(cells [len(columns)]string) (p *product, ok bool) {
	sku, has := value(cells[colSKU])
	if n := utf8.RuneCountInString(sku); !has || n < 1 || n > skuMaxLen {
		return nil, false
	}
	title, has := value(cells[colName])
	if !has || utf8.RuneCountInString(title) > titleMaxLen {
		return nil, false
	}
	category, has := value(cells[colCategory])
	taxRate, known := taxByCategory[category]
	if !has || !known {
		return nil, false
	}
	priceText, has := value(cells[colPrice])
	if !has {
		return nil, false
	}
	net, ok := parseCents(priceText)
	if !ok {
		return nil, false
	}
	p = &product{sku: sku, title: title, category: category, net: net}
	p.tax = mulRoundHalfUp(net, taxRate)
	p.gross = p.net + p.tax
	if s, has := value(cells[colStock]); has {
		n, ok := parseCount(s)
		if !ok {
			return nil, false
		}
		p.stock, p.hasStock = n, true
	}
	if u, has := value(cells[colImage]); has {
		if !validURL(u) {
			return nil, false
		}
		p.imageURL = u
	}
	return p, true
}

// mulRoundHalfUp returns amount * r rounded half up, for amount >= 0. Prices are at most 10^8
// cents and the numerators at most 55, so the product cannot overflow.
func mulRoundHalfUp(amount int64, r rate) int64 {
	n := amount * r.num
	q, rem := n/r.den, n%r.den
	if 2*rem >= r.den {
		q++
	}
	return q
}

// splitDecimal splits "[+-]digits[.digits]" into its parts, the grammar sluice accepts without
// thousands separators or exponents.
func splitDecimal(s string) (negative bool, whole, frac string, ok bool) {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		negative, s = s[0] == '-', s[1:]
	}
	whole, frac, dot := strings.Cut(s, ".")
	if !allDigits(whole) || (dot && !allDigits(frac)) || len(frac) > maxScale {
		return false, "", "", false
	}
	return negative, whole, frac, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isZero(s string) bool { return strings.Trim(s, "0") == "" }

// parseCents reads a price in [0, maxPrice] and returns it in cents, rounded half up once.
func parseCents(s string) (int64, bool) {
	negative, whole, frac, ok := splitDecimal(s)
	if !ok {
		return 0, false
	}
	whole = strings.TrimLeft(whole, "0")
	if negative && !(whole == "" && isZero(frac)) {
		return 0, false // below the minimum of 0 ("-0.00" is zero and passes)
	}
	if len(whole) > len("1000000") {
		return 0, false
	}
	var units int64
	for i := 0; i < len(whole); i++ {
		units = units*10 + int64(whole[i]-'0')
	}
	if units > maxPrice || (units == maxPrice && !isZero(frac)) {
		return 0, false
	}
	cents := units*centsPerUnit + fracCents(frac)
	// The digits past the cent decide the rounding: for a non-negative number the rest is at least
	// half a cent exactly when the third fractional digit is 5 or more.
	if len(frac) > 2 && frac[2] >= '5' {
		cents++
	}
	return cents, true
}

// fracCents returns the first two fractional digits as cents ("5" is 50, "05" is 5).
func fracCents(frac string) int64 {
	var c int64
	for i := 0; i < 2; i++ {
		c *= 10
		if i < len(frac) {
			c += int64(frac[i] - '0')
		}
	}
	return c
}

// parseCount reads a stock level: an integer >= 0 that fits the integer column.
func parseCount(s string) (int32, bool) {
	negative, whole, frac, ok := splitDecimal(s)
	if !ok || frac != "" { // "5.0" is a decimal, not an integer
		return 0, false
	}
	whole = strings.TrimLeft(whole, "0")
	if negative && whole != "" {
		return 0, false
	}
	if len(whole) > 10 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(whole); i++ {
		n = n*10 + int64(whole[i]-'0')
	}
	if n > math.MaxInt32 {
		return 0, false
	}
	return int32(n), true
}

// validURL accepts what sluice's url type accepts: http or https, a non-empty host without user
// information, and no spaces, control characters or characters that are never legal in a URL.
func validURL(u string) bool {
	var rest string
	switch {
	case strings.HasPrefix(u, "http://"):
		rest = u[len("http://"):]
	case strings.HasPrefix(u, "https://"):
		rest = u[len("https://"):]
	default:
		return false
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if authority == "" || strings.Contains(authority, "@") {
		return false
	}
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case c <= 0x20, c == 0x7f, c == '"', c == '<', c == '>', c == '\\':
			return false
		}
	}
	return true
}
