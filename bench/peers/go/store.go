package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v4"
)

const createTable = `CREATE TABLE IF NOT EXISTS peer_product (
  sku text PRIMARY KEY,
  title text NOT NULL,
  category text NOT NULL,
  net_minor bigint NOT NULL,
  tax_minor bigint NOT NULL,
  gross_minor bigint NOT NULL,
  currency char(3) NOT NULL,
  stock integer,
  image_url text,
  image_sha256 text,
  image_bytes bigint,
  updated_at timestamptz NOT NULL DEFAULT now())`

// Each batch is copied into a temporary table and merged from there with one statement: COPY is
// PostgreSQL's fastest way in, and one set-based upsert does far less work on the server than a
// thousand single-row ones. ON COMMIT DELETE ROWS empties the table at the end of every batch.
const createStage = `CREATE TEMP TABLE IF NOT EXISTS peer_stage (
  sku text, title text, category text, net_minor bigint, tax_minor bigint, gross_minor bigint,
  currency char(3), stock integer, image_url text, image_sha256 text, image_bytes bigint)
  ON COMMIT DELETE ROWS`

var stageColumns = []string{"sku", "title", "category", "net_minor", "tax_minor", "gross_minor",
	"currency", "stock", "image_url", "image_sha256", "image_bytes"}

// The WHERE clause leaves rows that did not change alone: a rerun of the same feed then writes no
// new row versions, and updated_at keeps telling when a product last changed.
const upsert = `INSERT INTO peer_product AS p
  (sku, title, category, net_minor, tax_minor, gross_minor, currency, stock, image_url, image_sha256, image_bytes)
SELECT sku, title, category, net_minor, tax_minor, gross_minor, currency, stock, image_url, image_sha256, image_bytes
FROM peer_stage
ON CONFLICT (sku) DO UPDATE SET
  title = EXCLUDED.title, category = EXCLUDED.category, net_minor = EXCLUDED.net_minor,
  tax_minor = EXCLUDED.tax_minor, gross_minor = EXCLUDED.gross_minor, currency = EXCLUDED.currency,
  stock = EXCLUDED.stock, image_url = EXCLUDED.image_url, image_sha256 = EXCLUDED.image_sha256,
  image_bytes = EXCLUDED.image_bytes, updated_at = now()
WHERE (p.title, p.category, p.net_minor, p.tax_minor, p.gross_minor, p.currency, p.stock,
       p.image_url, p.image_sha256, p.image_bytes)
  IS DISTINCT FROM
      (EXCLUDED.title, EXCLUDED.category, EXCLUDED.net_minor, EXCLUDED.tax_minor, EXCLUDED.gross_minor,
       EXCLUDED.currency, EXCLUDED.stock, EXCLUDED.image_url, EXCLUDED.image_sha256, EXCLUDED.image_bytes)`

// store writes batches of products over one connection; batches come one at a time from a single
// writer goroutine, so a pool would add nothing.
type store struct {
	conn *pgx.Conn
}

func openStore(ctx context.Context, dsn string) (*store, error) {
	if dsn == "" {
		return nil, fmt.Errorf("PEER_DB is not set")
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	for _, sql := range []string{createTable, createStage} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			conn.Close(context.Background())
			return nil, fmt.Errorf("creating tables: %w", err)
		}
	}
	return &store{conn: conn}, nil
}

func (s *store) close() { s.conn.Close(context.Background()) }

// write upserts one batch in one transaction.
func (s *store) write(ctx context.Context, batch []*product) error {
	rows := pgx.CopyFromSlice(len(batch), func(i int) ([]interface{}, error) {
		p := batch[i]
		var stock, url, sha, size interface{} // nil is NULL
		if p.hasStock {
			stock = p.stock
		}
		if p.imageURL != "" {
			url, sha, size = p.imageURL, p.image.sha256, p.image.bytes
		}
		return []interface{}{p.sku, p.title, p.category, p.net, p.tax, p.gross, currency, stock, url, sha, size}, nil
	})
	return s.conn.BeginFunc(ctx, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"peer_stage"}, stageColumns, rows); err != nil {
			return fmt.Errorf("copying a batch: %w", err)
		}
		if _, err := tx.Exec(ctx, upsert); err != nil {
			return fmt.Errorf("upserting a batch: %w", err)
		}
		return nil
	})
}
