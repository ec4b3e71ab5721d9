#!/usr/bin/env python3
"""Writes a seeded, reproducible product feed for one of the sample suppliers.

    scripts/gen_feed.py --supplier acme --rows 10000 --seed 1 --bad 0.02 > feeds/acme.csv

The same arguments always give the same bytes. --bad is the share of rows made broken on purpose
(missing required values, bad numbers, ragged rows, unknown categories, bad URLs) so that the
rejects output has something to show.
"""
import argparse
import random
import sys

WORDS = ["claw", "rake", "hammer", "drill", "lamp", "chair", "table", "rug", "mug", "kettle", "saw", "spade",
         "hose", "vase", "shelf", "towel", "pillow", "candle", "knife", "bowl"]
ADJ = ["red", "large", "compact", "oak", "steel", "cotton", "classic", "quiet", "heavy-duty", "mini"]


def acme_rows(rng, rows, bad, vary=0.0, vary_seed=0, image_base="https://img.example.com/acme", image_query="",
              all_images=False):
    vrng = random.Random(vary_seed)
    yield ["SKU", "Name", "Category", "Price", "Stock", "Image"]
    cats = ["tools", "garden", "books", "food"]
    for i in range(1, rows + 1):
        name = f"{rng.choice(ADJ).capitalize()} {rng.choice(WORDS)}"
        if rng.random() < 0.1:
            name += ', "pro" edition'  # delimiter and quotes inside a quoted field
        price = f"{rng.randint(1, 99999) / 100:.2f}"
        stock = str(rng.randint(0, 500)) if rng.random() > 0.05 else "N/A"
        has_image = rng.random() > 0.1 or all_images
        image = f"{image_base}/{i}.jpg{image_query}" if has_image else ""
        row = [f"ACME-{i:07d}", name, rng.choice(cats), price, stock, image]
        if vary and vrng.random() < vary:
            row[3] = f"{(int(price.replace('.', '')) + 1) / 100:.2f}"  # a new price for this product
        if rng.random() < bad:
            kind = rng.randrange(5)
            if kind == 0:
                row[1] = ""
            elif kind == 1:
                row[3] = "12,5O"
            elif kind == 2:
                row = row[:3]
            elif kind == 3:
                row[2] = "toys"
            else:
                row[5] = "ftp://img.example.com/x.jpg"
        yield row


def nordlys_rows(rng, rows, bad):
    yield ["Artikelnummer", "Benämning", "Varugrupp", "Pris", "I lager", "Bild"]
    groups = ["möbler", "textil", "livsmedel", "böcker"]
    for i in range(1, rows + 1):
        name = f"{rng.choice(ADJ)} {rng.choice(WORDS)} nr {i}"
        cents = rng.randint(100, 2500000)
        whole = f"{cents // 100:,}".replace(",", ".")
        price = f"{whole},{cents % 100:02d}"
        row = [f"NL{i:08d}", name, rng.choice(groups), price, rng.choice(["ja", "nej", "1", "0", "-"]),
               f"https://bild.example.se/{i}.png" if rng.random() > 0.2 else "-"]
        row[4] = {"ja": "yes", "nej": "no"}.get(row[4], row[4])
        if rng.random() < bad:
            kind = rng.randrange(4)
            if kind == 0:
                row[3] = "0,00"
            elif kind == 1:
                row[0] = "-"
            elif kind == 2:
                row[2] = "leksaker"
            else:
                row.append("extra")
        yield row


def quote(cell, delim):
    if any(c in cell for c in (delim, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--supplier", choices=["acme", "nordlys"], default="acme")
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bad", type=float, default=0.0, help="share of broken rows, 0..1")
    ap.add_argument("--vary", type=float, default=0.0,
                    help="share of products whose price differs from the same feed without --vary (acme only)")
    ap.add_argument("--vary-seed", type=int, default=1, help="which products --vary changes")
    ap.add_argument("--image-base", default="https://img.example.com/acme",
                    help="where image URLs point (acme only), e.g. http://127.0.0.1:8080/img")
    ap.add_argument("--image-query", default="", help="appended to every image URL, e.g. ?latency=200")
    ap.add_argument("--all-images", action="store_true", help="every row has an image URL (acme only)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout.buffer
    if args.supplier == "acme":
        out.write(b"\xef\xbb\xbf")  # Excel's UTF-8 byte-order mark
        rows, delim, eol = acme_rows(rng, args.rows, args.bad, args.vary, args.vary_seed, args.image_base,
                                     args.image_query, args.all_images), ",", "\r\n"
    else:
        rows, delim, eol = nordlys_rows(rng, args.rows, args.bad), ";", "\n"
    buf = []
    for row in rows:
        buf.append(delim.join(quote(c, delim) for c in row) + eol)
        if len(buf) >= 10000:
            out.write("".join(buf).encode("utf-8"))
            buf.clear()
    out.write("".join(buf).encode("utf-8"))


if __name__ == "__main__":
    main()
