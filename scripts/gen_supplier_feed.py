#!/usr/bin/env python3
"""Writes a seeded, reproducible supplier feed in one of four real product-feed formats.

    scripts/gen_supplier_feed.py --format merchant > feeds/merchant.txt
    scripts/gen_supplier_feed.py --format shopify --rows 200000 --clean -o /tmp/shopify.csv
    scripts/gen_supplier_feed.py --format woocommerce --seed 7 --bad 0.05 -o feeds/woo.csv
    scripts/gen_supplier_feed.py --format retail --bad 0 > feeds/retail.ndjson

The same arguments always give the same bytes (one random.Random(seed) for the products, a second one
seeded from the seed for the breakage; no clock, no hash()). Formats and quirks follow the published
specifications: Google Merchant Center product data, Shopify's product CSV, WooCommerce's product CSV
importer and the Google Retail API Product resource.

--rows N      data records after the header (Shopify: CSV records incl. continuation and image-only rows;
              Retail: lines). Default 40.
--seed S      default 1.
--bad F       share (0..1) of the random records after the fixed block that are broken on purpose with one
              of the format's breakage kinds. Default 0.1.
--clean       no broken records at all: the fixed broken records stay in place but are written unbroken,
              --bad is ignored (for benchmarks).

Every feed starts with a fixed block: first records that each show a quirk of the format (all valid),
then one record per breakage kind (see below), then random records. With the default --rows 40 the whole
block is present in every format. Sale windows lie around a fixed "now" of 2026-06-15T12:00:00Z: some
contain it (active), some ended before it, some start after it.

merchant     Google Merchant Center tab-separated text feed. UTF-8 without BOM, LF, final LF, "quoted
             fields" on: values with a tab, line break or '"' are quoted and '"' doubled
             ("12"" Teflon Frying Pan", a description with a tab, one with a line break). Mixed header
             forms (`Title [title]`, `image link`). Money `15.00 USD`, a few `12.50 EUR`, a few bare
             `9.99`; sale_price with ISO 8601 interval sale_price_effective_date in several time zones;
             availability in_stock / in stock / out_of_stock / out of stock / preorder / backorder;
             GTIN-8/12/13/14 with valid check digits (some EAN-13 with a leading 0), some empty;
             comma-separated additional_image_link, also repeated as a second
             `additional image link` column; `US::Standard:5.00 USD` shipping; item_group_id
             shared by 2-3 consecutive rows.
             Broken: wrong GTIN check digit; GTIN `8.84777E+11`; sale_price above price (active);
             price `abc USD`; price `15.00 XYZ`; empty title; availability `maybe`; sale window with
             end before start.
shopify      Shopify product CSV export. UTF-8 without BOM, comma, CRLF between records, bare LF inside
             quoted Body (HTML), no newline after the last record. Products of 1-3 variants: first row
             = product fields + first variant + first image; continuation rows carry only Handle,
             option values and Variant * fields; single-variant products use Title / Default Title;
             ~30% of products have 1-2 image-only rows after the variants. Tags one quoted cell,
             Published TRUE/FALSE/true, compare-at ("was") prices, Variant Grams + kg/g/lb/oz unit,
             GTIN-12/13 barcodes, deny/continue, active/draft/archived.
             Broken: Variant Price `-5.00`; Variant Barcode `8.84777E+11`; continuation row without
             Variant SKU but with a price; orphan continuation (first row of a Handle has empty Title
             and product fields, only variant fields).
woocommerce  WooCommerce product CSV export in Windows-1252 (cp1252: `€`, `é`, `“ ”`, `–`, `™` are single
             bytes), comma, CRLF, final CRLF, the sample's odd column order. simple / variable parents
             without price + variation rows naming the parent SKU in Parent / `simple, downloadable,
             virtual`; Published 1/0/-1; sale price with date windows (active, past, future) or without
             dates; Tax class `reduced-rate` / `parent` / empty; Images and Categories as lists in one
             cell; names with double spaces and non-ASCII; descriptions with a literal `\\n`.
             Broken: simple product without Regular price; Sale price above Regular price; Stock `lots`;
             variation whose Parent SKU does not exist; a Name holding the raw byte 0x81 (undefined in
             Windows-1252).
retail       Google Retail API product import, NDJSON. UTF-8, one JSON object per line, LF, no final
             newline. priceInfo prices as JSON strings (`"16"`, `"35.99"`), currencyCode USD / a few EUR,
             sales as originalPrice > price with RFC 3339 effective/expire times (active, expired, future,
             one expiring 2120-08-01); most products share the placeholder image noimage.jpg; attributes
             as key/value records; non-ASCII titles.
             Broken: availability `INVALID_VALUE`; a truncated (invalid JSON) line; a JSON array instead of
             an object; price `"abc"`; an object without `id`; the first product's id again.
"""
import argparse
import datetime
import itertools
import json
import random
import sys

NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.timezone.utc)  # reference "now" of all sale windows
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)
SPREADSHEET_GTIN = "8.84777E+11"  # a GTIN after a spreadsheet round-trip

ADJECTIVES = ["classic", "compact", "large", "mini", "oak", "steel", "cotton", "quiet", "vintage", "slim", "rustic",
              "heavy-duty"]
BRANDS = ["Acme", "Nordlys", "Brightline", "Oakridge", "Polaris", "Kettle & Co"]
COLORS = ["black", "red", "white", "blue", "green", "grey", "silver", "copper"]


# ---------------------------------------------------------------------------------------------- shared helpers

def gs1_check_digit(body):
    """GS1 mod-10 check digit for the digits before it (weights 3,1,3,... from the right)."""
    total = sum(int(ch) * (3 if pos % 2 == 0 else 1) for pos, ch in enumerate(reversed(body)))
    return str(-total % 10)


def with_check_digit(body):
    return body + gs1_check_digit(body)


def make_gtin(rng, length, leading_zero=False):
    """A valid GTIN of `length` digits; leading_zero gives e.g. an EAN-13 made from a UPC-A (`0...`)."""
    digits = length - 1
    if leading_zero:
        body = "0" + str(rng.randrange(10 ** (digits - 2), 10 ** (digits - 1)))
    else:
        body = str(rng.randrange(10 ** (digits - 1), 10 ** digits))
    return with_check_digit(body)


def wrong_check_digit(gtin):
    return gtin[:-1] + str((int(gtin[-1]) + 1) % 10)


def money(cents):
    """12.50 style, two decimals."""
    return f"{cents // 100}.{cents % 100:02d}"


def sale_window(rng, kind=None):
    """(kind, first day, last day) of a sale: 'active' contains NOW, 'ended' lies before it, 'future' after it.

    Margins of at least a day keep that true whatever time zone the format attaches to the dates.
    """
    if kind is None:
        r = rng.random()
        kind = "active" if r < 0.5 else "ended" if r < 0.75 else "future"
    if kind == "active":
        start, end = TODAY - rng.randint(1, 30) * DAY, TODAY + rng.randint(1, 30) * DAY
    elif kind == "ended":
        end = TODAY - rng.randint(2, 150) * DAY
        start = end - rng.randint(0, 30) * DAY
    else:
        start = TODAY + rng.randint(2, 60) * DAY
        end = start + rng.randint(0, 30) * DAY
    return kind, start, end


def quote_cell(cell, delim):
    if delim in cell or '"' in cell or "\n" in cell or "\r" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


def join_record(cells, delim):
    """One CSV/TSV record without line end; cells holding the delimiter, '"' or a line break are quoted."""
    line = delim.join(cells)
    if line.count(delim) == len(cells) - 1 and '"' not in line and "\n" not in line and "\r" not in line:
        return line  # fast path: nothing to quote
    return delim.join(quote_cell(cell, delim) for cell in cells)


def write_records(out, records, eol, final_eol, encoding="utf-8"):
    """Joins records with eol (plus one after the last if final_eol) and writes them encoded, in batches.

    errors="surrogateescape" lets a record carry a raw undefined byte as a lone surrogate (U+DC81 -> 0x81);
    every other character must be encodable.
    """
    batch, first = [], True
    for record in records:
        batch.append(record)
        if len(batch) == 10000:
            out.write(((eol if not first else "") + eol.join(batch)).encode(encoding, "surrogateescape"))
            batch, first = [], False
    text = (eol if not first and batch else "") + eol.join(batch)
    if final_eol and not (first and not batch):
        text += eol
    out.write(text.encode(encoding, "surrogateescape"))


def broken_or_not(bad_rng, bad, clean):
    """Whether the next random record is broken on purpose."""
    return not clean and bad_rng.random() < bad


# ---------------------------------------------------------------------------------------------- merchant

MERCHANT_HEADER = ["id", "Title [title]", "description", "link", "image link", "additional_image_link",
                   "availability", "price", "sale_price", "sale_price_effective_date", "gtin", "brand", "mpn",
                   "condition", "google_product_category", "product_type", "item_group_id", "color", "shipping",
                   "custom_label_0", "additional image link"]
MERCHANT_CATEGORIES = [
    ("Home > Kitchen > Cookware", "654", ["Frying Pan", "Saucepan", "Stock Pot", "Wok"]),
    ("Home > Kitchen > Tableware", "674", ["Mug", "Bowl", "Plate", "Teapot"]),
    ("Apparel > Women > Dresses", "2271", ["Dress", "Maxi Dress", "Wrap Dress"]),
    ("Apparel > Men > Shirts", "212", ["Shirt", "Polo", "T-Shirt"]),
    ("Hardware > Tools > Hand Tools", "1167", ["Hammer", "Hand Saw", "Screwdriver Set"]),
    ("Home > Garden > Watering", "3568", ["Garden Hose", "Watering Can", "Sprinkler"]),
]
MERCHANT_BLURBS = ["built to last, easy to clean.", "our best seller, now in more colours.",
                   "ships in recycled packaging.", "covered by a 2-year warranty."]
MERCHANT_AVAILABILITY = ["in_stock"] * 9 + ["in stock"] * 4 + ["out_of_stock"] * 2 + ["out of stock"] * 2 + [
    "preorder", "backorder"]
MERCHANT_SHIPPING = ["US::Standard:5.00 USD", "US::Standard:0.00 USD", "US:CA:Overnight:16.00 USD", ""]
MERCHANT_CONDITIONS = ["new"] * 8 + ["refurbished", "used"]
MERCHANT_LABELS = ["", "", "summer-sale", "clearance", "bestseller"]
GTIN_SHAPES = [(13, False)] * 3 + [(13, True), (12, False), (12, False), (8, False), (14, False), None, None]
TIME_ZONES = ["+0200", "+0100", "-0500", "-0800", "Z", "+0000", "+0530"]
WINDOW_ACTIVE = "2026-06-01T00:00+0200/2026-06-30T23:59+0200"
WINDOW_ENDED = "2026-01-01T00:00-0500/2026-01-31T23:59-0500"
WINDOW_FUTURE = "2026-07-01T00:00Z/2026-07-31T23:59Z"


def merchant_interval(start, end, tz):
    return f"{start.isoformat()}T00:00{tz}/{end.isoformat()}T23:59{tz}"


def merchant_images(item_id, count):
    return ",".join(f"https://images.example.com/merchant/{item_id}-{k}.jpg" for k in range(2, 2 + count))


def merchant_item(rng, i):
    """One valid random item as {header: value}."""
    item_id = f"MC-{i:06d}"
    path, category_id, nouns = rng.choice(MERCHANT_CATEGORIES)
    brand = rng.choice(BRANDS)
    title = f"{brand} {rng.choice(ADJECTIVES).title()} {rng.choice(nouns)}"
    cents = rng.randrange(199, 40000)
    r = rng.random()
    currency = " USD" if r < 0.93 else " EUR" if r < 0.97 else ""  # "" = bare number, feed default currency
    shape = rng.choice(GTIN_SHAPES)
    row = {
        "id": item_id,
        "Title [title]": title,
        "description": f"{title}: {rng.choice(MERCHANT_BLURBS)}",
        "link": f"https://shop.example.com/products/{item_id.lower()}",
        "image link": f"https://images.example.com/merchant/{item_id}.jpg",
        "additional_image_link": merchant_images(item_id, rng.choice((0, 0, 1, 2, 3))),
        "availability": rng.choice(MERCHANT_AVAILABILITY),
        "price": money(cents) + currency,
        "sale_price": "",
        "sale_price_effective_date": "",
        "gtin": make_gtin(rng, *shape) if shape else "",
        "brand": brand,
        "mpn": f"{brand[:3].upper()}-{rng.randrange(10000, 100000)}" if rng.random() < 0.8 else "",
        "condition": rng.choice(MERCHANT_CONDITIONS),
        "google_product_category": category_id,
        "product_type": path,
        "item_group_id": "",
        "color": "/".join(rng.sample(COLORS, rng.choice((1, 1, 2, 3)))),
        "shipping": rng.choice(MERCHANT_SHIPPING),
        "custom_label_0": rng.choice(MERCHANT_LABELS),
    }
    if rng.random() < 0.25:
        row["sale_price"] = money(cents * rng.randint(60, 90) // 100) + currency
        if rng.random() < 0.8:  # else the sale price applies without a window
            _, start, end = sale_window(rng)
            row["sale_price_effective_date"] = merchant_interval(start, end, rng.choice(TIME_ZONES))
    return row


def _no_sale(price):
    return {"price": price, "sale_price": "", "sale_price_effective_date": ""}


_MUG = {"Title [title]": "Stoneware Mug 350 ml", "description": "Stoneware mug, 350 ml, microwave safe.",
        "product_type": "Home > Kitchen > Tableware", "google_product_category": "674"}

# Fixed valid quirk rows, applied over a random item in order (rows 1..10). A callable value gets the row.
MERCHANT_QUIRKS = [
    {"Title [title]": '12" Teflon Frying Pan', "description": 'Non-stick 12" pan, oven safe to 260 °C.',
     "product_type": "Home > Kitchen > Cookware", "google_product_category": "654", "item_group_id": "PAN-12",
     "color": "black/red", **_no_sale("15.00 USD"), "availability": "in_stock",
     "gtin": with_check_digit("088477653684")},
    {"Title [title]": '12" Teflon Frying Pan', "description": "Stainless steel body.\tDishwasher safe.",
     "product_type": "Home > Kitchen > Cookware", "google_product_category": "654", "item_group_id": "PAN-12",
     "color": "silver", **_no_sale("15.00 USD"), "availability": "in stock",
     "gtin": with_check_digit("73621456789")},
    {"Title [title]": '12" Teflon Frying Pan', "description": "Copper core.\nInduction ready.",
     "product_type": "Home > Kitchen > Cookware", "google_product_category": "654", "item_group_id": "PAN-12",
     "color": "copper", **_no_sale("17.50 USD"), "availability": "out_of_stock",
     "gtin": with_check_digit("1088477653684")},
    {**_no_sale("12.50 EUR"), "availability": "out of stock", "gtin": with_check_digit("9638507")},
    {**_no_sale("9.99"), "availability": "preorder", "gtin": ""},
    {"price": "15.00 USD", "sale_price": "12.00 USD", "sale_price_effective_date": WINDOW_ACTIVE,
     "availability": "backorder", "additional_image_link": lambda row: merchant_images(row["id"], 3),
     "shipping": "US::Standard:5.00 USD,US:CA:Overnight:16.00 USD"},
    {**_MUG, "item_group_id": "MUG-2", "color": "white", "price": "15.00 USD", "sale_price": "12.00 USD",
     "sale_price_effective_date": WINDOW_ENDED, "availability": "in_stock"},
    {**_MUG, "item_group_id": "MUG-2", "color": "blue", "price": "15.00 USD", "sale_price": "12.00 USD",
     "sale_price_effective_date": WINDOW_FUTURE, "availability": "in_stock"},
    {"price": "20.00 USD", "sale_price": "16.00 USD", "sale_price_effective_date": "", "availability": "in_stock"},
    {"price": "30.00 EUR", "sale_price": "24.00 EUR",
     "sale_price_effective_date": "2026-06-10T00:00+0100/2026-06-20T23:59+0100", "availability": "in_stock"},
]


def _mc_wrong_check_digit(row, rng):
    row["gtin"] = wrong_check_digit(make_gtin(rng, 13))


def _mc_spreadsheet_gtin(row, rng):
    row["gtin"] = SPREADSHEET_GTIN


def _mc_sale_above_price(row, rng):
    row.update(price="15.00 USD", sale_price="19.99 USD", sale_price_effective_date=WINDOW_ACTIVE)


def _mc_price_not_a_number(row, rng):
    row.update(_no_sale("abc USD"))


def _mc_unknown_currency(row, rng):
    row.update(_no_sale("15.00 XYZ"))


def _mc_empty_title(row, rng):
    row["Title [title]"] = ""


def _mc_bad_availability(row, rng):
    row["availability"] = "maybe"


def _mc_reversed_window(row, rng):
    row.update(price="15.00 USD", sale_price="12.00 USD",
               sale_price_effective_date="2026-06-30T23:59+0200/2026-06-01T00:00+0200")


MERCHANT_BREAKAGES = [_mc_wrong_check_digit, _mc_spreadsheet_gtin, _mc_sale_above_price, _mc_price_not_a_number,
                      _mc_unknown_currency, _mc_empty_title, _mc_bad_availability, _mc_reversed_window]


def merchant_records(rng, bad_rng, n, bad, clean):
    yield join_record(MERCHANT_HEADER, "\t")
    fixed_end = len(MERCHANT_QUIRKS) + len(MERCHANT_BREAKAGES)
    group_id, group_title, group_left = "", "", 0
    for i in range(1, n + 1):
        row = merchant_item(rng, i)
        if i <= len(MERCHANT_QUIRKS):
            for key, value in MERCHANT_QUIRKS[i - 1].items():
                row[key] = value(row) if callable(value) else value
        elif i <= fixed_end:
            if not clean:
                MERCHANT_BREAKAGES[i - len(MERCHANT_QUIRKS) - 1](row, bad_rng)
        else:
            if not group_left and rng.random() < 0.08:  # 2-3 consecutive variants of one item group
                group_id, group_title, group_left = f"GRP-{i:06d}", row["Title [title]"], rng.choice((2, 3))
            if group_left:
                row["item_group_id"], row["Title [title]"] = group_id, group_title
                group_left -= 1
            if broken_or_not(bad_rng, bad, clean):
                bad_rng.choice(MERCHANT_BREAKAGES)(row, bad_rng)
        # The attribute repeated as a second column (Merchant Center allows either form): the last of
        # several additional images moves there.
        images = row["additional_image_link"].split(",") if row["additional_image_link"] else []
        row["additional image link"] = images.pop() if len(images) >= 2 else ""
        row["additional_image_link"] = ",".join(images)
        yield join_record([row[h] for h in MERCHANT_HEADER], "\t")


# ---------------------------------------------------------------------------------------------- shopify

SHOPIFY_HEADER = ("Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,"
                  "Option1 Value,Option2 Name,Option2 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,"
                  "Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,"
                  "Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,"
                  "Image Position,Image Alt Text,Gift Card,SEO Title,SEO Description,Variant Weight Unit,"
                  "Status").split(",")
SHOPIFY_PRODUCT_FIELDS = ["Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
                          "Option1 Name", "Option2 Name", "Image Src", "Image Position", "Image Alt Text",
                          "Gift Card", "SEO Title", "SEO Description", "Status"]
SHOPIFY_KINDS = [  # Type, Shopify taxonomy path, nouns for random products
    ("Bracelet", "Apparel & Accessories > Jewelry > Bracelets", ["bracelet", "bangle", "cuff"]),
    ("Necklace", "Apparel & Accessories > Jewelry > Necklaces", ["necklace", "pendant", "choker"]),
    ("Ring", "Apparel & Accessories > Jewelry > Rings", ["ring", "band"]),
    ("Earrings", "Apparel & Accessories > Jewelry > Earrings", ["earrings", "studs", "hoops"]),
]
SHOPIFY_BODIES = [
    '<p>Our {title}, hand-made in small batches.</p>\n<ul>\n<li>Material: {material}</li>\n'
    '<li>Fits "true to size", adjustable</li>\n</ul>',
    '<p><strong>{title}</strong> – polished, nickel-free, gift-boxed.</p>\n<p>Care: wipe clean, store dry.</p>',
    '<p>{material}, 18 cm, clasp: lobster.</p>',
]
SHOPIFY_OPTIONS = [("Size", ["S", "M", "L"]), ("Color", ["Gold", "Silver", "Rose Gold"]),
                   ("Length", ["16 in", "18 in", "20 in"])]
SHOPIFY_MATERIALS = ["Leather", "Steel", "Cotton Cord", "Sterling Silver"]
SHOPIFY_TAGS = ["Anchor", "Gold", "Leather", "Silver", "Beads", "Boho", "Gift", "Men", "Women", "Sale"]
SHOPIFY_VENDORS = ["Company 123", "Anchor Works", "Silverline", "Boho Beads Co."]
SHOPIFY_STATUS = ["active"] * 8 + ["draft", "archived"]


def shopify_image_url(handle, position):
    return f"https://images.example.com/shopify/{handle}-{position}.jpg"


def shopify_product(rng, skus, handle, title, kind, n_variants, n_images, second_option=False):
    """Rows of one valid product: product row (+ first variant + first image), continuation rows, image rows.

    Returns (rows, number of variant rows); rows are {header: value}.
    """
    type_, category, _ = kind
    abbrev = "".join(word[0] for word in handle.split("-") if word[:1].isalpha()).upper()
    material = rng.choice(SHOPIFY_MATERIALS)
    yes, no = ("TRUE", "FALSE") if rng.random() < 0.3 else ("true", "false")
    cents = rng.randrange(500, 25000)
    compare = cents * rng.randint(120, 150) // 100 if rng.random() < 0.35 else 0
    unit = rng.choice(("kg", "g", "lb", "oz"))
    grams = rng.randint(5, 2500)
    if n_variants == 1:
        option1, values = "Title", ["Default Title"]
    else:
        option1, values = rng.choice(SHOPIFY_OPTIONS)
        values = rng.sample(values, n_variants)
    rows = []
    for v in range(n_variants):
        row = dict.fromkeys(SHOPIFY_HEADER, "")
        price = cents + v * 500 if option1 == "Size" else cents
        row.update({
            "Handle": handle,
            "Option1 Value": values[v],
            "Option2 Value": rng.choice(SHOPIFY_MATERIALS) if second_option else "",
            "Variant SKU": f"SH-{abbrev}-{next(skus)}",
            "Variant Grams": str(grams + v * 10),
            "Variant Inventory Tracker": "shopify" if rng.random() < 0.8 else "",
            "Variant Inventory Qty": str(rng.randint(0, 250)),
            "Variant Inventory Policy": "deny" if rng.random() < 0.8 else "continue",
            "Variant Fulfillment Service": "manual",
            "Variant Price": money(price),
            "Variant Compare At Price": money(compare + (price - cents)) if compare else "",
            "Variant Requires Shipping": yes,
            "Variant Taxable": yes if rng.random() < 0.9 else no,
            "Variant Barcode": make_gtin(rng, rng.choice((12, 13))) if rng.random() < 0.7 else "",
            "Variant Weight Unit": unit,
        })
        rows.append(row)
    seo = rng.random() < 0.25
    rows[0].update({
        "Title": title,
        "Body (HTML)": rng.choice(SHOPIFY_BODIES).format(title=title, material=material),
        "Vendor": rng.choice(SHOPIFY_VENDORS),
        "Product Category": category,
        "Type": type_,
        "Tags": ", ".join(rng.sample(SHOPIFY_TAGS, rng.randint(1, 4))),
        "Published": yes if rng.random() < 0.85 else no,
        "Option1 Name": option1,
        "Option2 Name": "Material" if second_option else "",
        "Image Src": shopify_image_url(handle, 1),
        "Image Position": "1",
        "Image Alt Text": title if rng.random() < 0.5 else "",
        "Gift Card": no,
        "SEO Title": f"{title} | Anchor Shop" if seo else "",
        "SEO Description": f"Buy the {title} online." if seo else "",
        "Status": rng.choice(SHOPIFY_STATUS),
    })
    for position in range(2, 2 + n_images):
        row = dict.fromkeys(SHOPIFY_HEADER, "")
        row.update({"Handle": handle, "Image Src": shopify_image_url(handle, position),
                    "Image Position": str(position),
                    "Image Alt Text": f"{title}, view {position}" if rng.random() < 0.5 else ""})
        rows.append(row)
    return rows, n_variants


def _sh_negative_price(rows, n_variants, rng):
    rows[n_variants - 1].update({"Variant Price": "-5.00", "Variant Compare At Price": ""})


def _sh_spreadsheet_barcode(rows, n_variants, rng):
    rows[n_variants - 1]["Variant Barcode"] = SPREADSHEET_GTIN


def _sh_missing_sku(rows, n_variants, rng):
    rows[n_variants - 1]["Variant SKU"] = ""  # a continuation row when the product has several variants


def _sh_orphan_continuation(rows, n_variants, rng):
    for field in SHOPIFY_PRODUCT_FIELDS:
        rows[0][field] = ""
    del rows[n_variants:]  # its image rows would belong to nothing either


SHOPIFY_BREAKAGES = [_sh_negative_price, _sh_spreadsheet_barcode, _sh_missing_sku, _sh_orphan_continuation]


def shopify_fixed_products(rng, bad_rng, skus, clean):
    """The fixed block: four quirk products, then one product per breakage kind."""
    bracelets, necklaces, rings, earrings = SHOPIFY_KINDS
    rows, nv = shopify_product(rng, skus, "chain-bracelet", "Chain Bracelet", bracelets, 3, 2)
    rows[0].update({"Tags": "Anchor, Gold, Leather", "Published": "TRUE", "Status": "active"})
    for row in rows[:nv]:
        row.update({"Variant Price": "59.99", "Variant Compare At Price": "75.00", "Variant Weight Unit": "oz",
                    "Variant Grams": "28", "Variant Inventory Policy": "deny"})
    rows[nv]["Image Alt Text"], rows[nv + 1]["Image Alt Text"] = "Chain Bracelet, clasp detail", ""
    yield rows
    rows, nv = shopify_product(rng, skus, "leather-anchor", "Leather Anchor", bracelets, 1, 0)
    rows[0].update({"Published": "FALSE", "Status": "draft", "Variant Weight Unit": "g",
                    "Variant Inventory Policy": "continue", "Variant Barcode": "", "Variant Compare At Price": ""})
    yield rows
    rows, nv = shopify_product(rng, skus, "bangle-bracelet", "Bangle Bracelet", bracelets, 2, 1, second_option=True)
    rows[0].update({"Published": "true", "Status": "archived"})
    for row in rows[:nv]:
        row["Variant Weight Unit"] = "kg"
    rows[nv]["Image Alt Text"] = "Bangle Bracelet on wrist"
    yield rows
    rows, nv = shopify_product(rng, skus, "anchor-bracelet-mens", "Anchor Bracelet Mens", bracelets, 1, 1)
    rows[0].update({"Variant Weight Unit": "lb", "Variant Price": "35.00", "Variant Compare At Price": "49.00",
                    "Variant Barcode": with_check_digit("08847765368")})
    yield rows
    shapes = [("hook-earrings", "Hook Earrings", earrings, 2), ("pearl-pendant", "Pearl Pendant", necklaces, 1),
              ("stacking-rings", "Stacking Rings", rings, 3), ("lost-charm", "Lost Charm", necklaces, 2)]
    for (handle, title, kind, n_variants), breakage in zip(shapes, SHOPIFY_BREAKAGES):
        rows, nv = shopify_product(rng, skus, handle, title, kind, n_variants, 0)
        if not clean:
            breakage(rows, nv, bad_rng)
        yield rows


def shopify_records(rng, bad_rng, n, bad, clean):
    yield join_record(SHOPIFY_HEADER, ",")
    skus = itertools.count(1)
    left = n
    for rows in shopify_fixed_products(rng, bad_rng, skus, clean):
        for row in rows[:left]:
            yield join_record([row[h] for h in SHOPIFY_HEADER], ",")
        left -= min(left, len(rows))
    k = 0
    while left > 0:
        k += 1
        kind = rng.choice(SHOPIFY_KINDS)
        noun = rng.choice(kind[2])
        adjective = rng.choice(ADJECTIVES)
        n_variants = min(left, rng.choice((1, 1, 1, 2, 2, 3, 3)))
        n_images = rng.choice((1, 2)) if rng.random() < 0.3 else 0
        rows, nv = shopify_product(rng, skus, f"{adjective}-{noun}-{k}", f"{adjective.title()} {noun.title()}",
                                   kind, n_variants, n_images, second_option=n_variants > 1 and rng.random() < 0.3)
        if broken_or_not(bad_rng, bad, clean):
            bad_rng.choice(SHOPIFY_BREAKAGES)(rows, nv, bad_rng)
        for row in rows[:left]:
            yield join_record([row[h] for h in SHOPIFY_HEADER], ",")
        left -= min(left, len(rows))


# ---------------------------------------------------------------------------------------------- woocommerce

WOO_HEADER = ["ID", "Type", "SKU", "Name", "Published", "Is featured?", "Visibility in catalog", "Short description",
              "Description", "Date sale price starts", "Date sale price ends", "Tax status", "Tax class",
              "In stock?", "Stock", "Backorders allowed?", "Weight (kg)", "Length (cm)", "Sale price",
              "Regular price", "Categories", "Tags", "Images", "Parent", "Attribute 1 name", "Attribute 1 value(s)",
              "Meta: _wpcom_is_markdown", "Attribute 1 default", "Position"]
WOO_NOUNS = ["T-Shirt", "Polo", "Beanie", "Cap", "Belt", "Sunglasses", "Scarf", "Socks", "Poster", "Mug",
             "Müsli Bowl", "Crème Brûlée Set"]
WOO_CATEGORIES = ["Clothing > Tshirts, Clothing", "Clothing > Accessories, Clothing", "Clothing > Hoodies, Clothing",
                  "Music > Albums, Music", "Decor", "Food > Coffee, Food", "Uncategorized"]
WOO_TAGS = ["cotton", "winter", "gift", "bio", "sale", "new"]
WOO_SHORT = ["This is a simple product.", 'A "must-have" for cold days, soft and warm.',
             "Fair-trade – 100 % organic.", "Ideal as a gift, wrapped on request."]
# Line breaks in descriptions are exported as a literal backslash-n.
WOO_DESCRIPTIONS = ["Pellentesque habitant morbi tristique, senectus et netus.",
                    "Soft fleece, “brushed” inside.\\nMachine wash at 30 °C.",
                    "Größe: S–XL.\\nMaterial: 100 % Baumwolle.", "Handmade in Portugal; colours may vary."]
WOO_VARIATION_COLORS = ["Blue", "Green", "Red", "Grey", "Black"]


def woo_prices(rng, row, cents):
    """Fills Regular price (mostly 18.00 style, some whole numbers like 45) and maybe a sale with or without dates."""
    whole = rng.random() < 0.2
    if whole:
        cents = max(100, cents // 100 * 100)
    fmt = (lambda c: str(c // 100)) if whole else money
    row["Regular price"] = fmt(cents)
    if rng.random() < 0.3:
        sale = cents * rng.randint(60, 90) // 100
        row["Sale price"] = fmt(sale // 100 * 100 if whole else sale)
        if rng.random() < 0.75:
            _, start, end = sale_window(rng)
            row["Date sale price starts"], row["Date sale price ends"] = start.isoformat(), end.isoformat()


def woo_simple(rng, row_id, sku, name):
    """One valid `simple` product row."""
    row = dict.fromkeys(WOO_HEADER, "")
    in_stock = rng.random() < 0.85
    r = rng.random()
    tax_class = "reduced-rate" if r < 0.2 else "zero-rate" if r < 0.25 else ""
    row.update({
        "ID": str(row_id), "Type": "simple", "SKU": sku, "Name": name,
        "Published": "1" if rng.random() < 0.9 else rng.choice(("0", "-1")),
        "Is featured?": "1" if rng.random() < 0.1 else "0",
        "Visibility in catalog": rng.choice(("visible",) * 7 + ("catalog", "search", "hidden")),
        "Short description": rng.choice(WOO_SHORT),
        "Description": rng.choice(WOO_DESCRIPTIONS),
        "Tax status": "taxable" if rng.random() < 0.9 else "none",
        "Tax class": tax_class,
        "In stock?": "1" if in_stock else "0",
        "Stock": (str(rng.randint(1, 150)) if in_stock else "0") if rng.random() < 0.6 else "",
        "Backorders allowed?": rng.choice(("0",) * 6 + ("1", "notify")),
        "Weight (kg)": str(rng.randint(1, 40) / 10) if rng.random() < 0.8 else "",
        "Length (cm)": str(rng.randint(5, 80)) if rng.random() < 0.7 else "",
        "Categories": rng.choice(WOO_CATEGORIES),
        "Tags": ", ".join(rng.sample(WOO_TAGS, rng.randint(0, 3))),
        "Images": ", ".join(f"https://images.example.com/woo/{sku}-{k}.jpg" for k in range(1, rng.randint(1, 3) + 1)),
        "Meta: _wpcom_is_markdown": "1" if rng.random() < 0.5 else "",
        "Position": "0",
    })
    if rng.random() < 0.2:
        row["Attribute 1 name"], row["Attribute 1 value(s)"] = "Material", rng.choice(("Cotton", "Wool", "Ceramic"))
    woo_prices(rng, row, rng.randrange(300, 9000))
    return row


def woo_variable(rng, ids, sku, name, colors):
    """A `variable` parent (no price) followed by one `variation` row per color, Parent = parent SKU."""
    parent = woo_simple(rng, next(ids), sku, name)
    parent.update({"Type": "variable", "Regular price": "", "Sale price": "", "Date sale price starts": "",
                   "Date sale price ends": "", "Stock": "", "Attribute 1 name": "Color",
                   "Attribute 1 value(s)": ", ".join(colors), "Attribute 1 default": colors[0]})
    rows = [parent]
    cents = rng.randrange(1500, 9000)
    for position, color in enumerate(colors, 1):
        row = dict.fromkeys(WOO_HEADER, "")
        in_stock = rng.random() < 0.85
        row.update({
            "ID": str(next(ids)), "Type": "variation", "SKU": f"{sku}-{color.lower()}", "Name": f"{name} - {color}",
            "Published": "1", "Is featured?": "0", "Visibility in catalog": "visible",
            "Tax status": "taxable", "Tax class": "parent", "In stock?": "1" if in_stock else "0",
            "Stock": str(rng.randint(0, 80)) if rng.random() < 0.5 else "", "Backorders allowed?": "0",
            "Weight (kg)": parent["Weight (kg)"],
            "Images": f"https://images.example.com/woo/{sku}-{color.lower()}.jpg",
            "Parent": sku, "Attribute 1 name": "Color", "Attribute 1 value(s)": color, "Position": str(position),
        })
        woo_prices(rng, row, cents)
        rows.append(row)
    return rows


def _woo_no_regular_price(row, rng):
    row.update({"Regular price": "", "Sale price": "", "Date sale price starts": "", "Date sale price ends": ""})


def _woo_sale_above_regular(row, rng):
    row.update({"Regular price": "18.00", "Sale price": "24.00"})


def _woo_stock_not_a_number(row, rng):
    row.update({"In stock?": "1", "Stock": "lots"})


def _woo_missing_parent(row, rng):
    row.update({"Type": "variation", "Parent": f"woo-ghost-{rng.randrange(1000, 10000)}", "Tax class": "parent",
                "Attribute 1 name": "Color", "Attribute 1 value(s)": "Blue", "Position": "1"})


def _woo_undefined_byte(row, rng):
    row["Name"] += " Gr\udc81n"  # lone surrogate U+DC81: written as the raw byte 0x81


WOO_BREAKAGES = [_woo_no_regular_price, _woo_sale_above_regular, _woo_stock_not_a_number, _woo_missing_parent,
                 _woo_undefined_byte]


def woo_fixed_rows(rng, bad_rng, ids, clean):
    """The fixed block: quirk rows, then one simple product per breakage kind."""
    row = woo_simple(rng, next(ids), "woo-cafe-creme", "Café Crème – 250 g")
    row.update({"Regular price": "8.90", "Sale price": "7.50", "Date sale price starts": "2026-06-01",
                "Date sale price ends": "2026-06-30", "Tax class": "reduced-rate", "Categories": "Food > Coffee, Food",
                "Published": "1"})
    yield row
    hoodie = woo_variable(rng, ids, "woo-hoodie", "Hoodie", ["Blue", "Green", "Red"])
    hoodie[0].update({"Categories": "Clothing > Hoodies, Clothing",
                      "Images": "https://images.example.com/woo/hoodie-2.jpg, "
                                "https://images.example.com/woo/hoodie-blue-1.jpg"})
    windows = [("2026-06-01", "2026-06-30"), ("2026-01-01", "2026-01-31"), ("2026-07-01", "2026-07-31")]
    for row, (start, end) in zip(hoodie[1:], windows):
        row.update({"Regular price": "45.00", "Sale price": "42.00", "Date sale price starts": start,
                    "Date sale price ends": end})
    yield from hoodie
    row = woo_simple(rng, next(ids), "woo-hoodie-with-logo", "Hoodie with Pocket and  Logo")
    row.update({"Published": "0", "Regular price": "45", "Sale price": "35", "Date sale price starts": "",
                "Date sale price ends": "", "Tax class": "", "Categories": "Clothing > Hoodies, Clothing"})
    yield row
    row = woo_simple(rng, next(ids), "woo-pullover-nordic", "Pullover “Nordic” ™")
    row.update({"Published": "-1", "In stock?": "0", "Stock": "", "Regular price": "59.00", "Sale price": "",
                "Date sale price starts": "", "Date sale price ends": "", "Categories": "Clothing > Hoodies, Clothing"})
    yield row
    row = woo_simple(rng, next(ids), "woo-album", "Album")
    row.update({"Type": "simple, downloadable, virtual", "Regular price": "15.00", "Sale price": "",
                "Date sale price starts": "", "Date sale price ends": "", "Weight (kg)": "", "Length (cm)": "",
                "Stock": "", "In stock?": "1", "Tax class": "", "Categories": "Music > Albums, Music",
                "Attribute 1 name": "", "Attribute 1 value(s)": ""})
    yield row
    row = woo_simple(rng, next(ids), "woo-fee-5", "Gebühr 5 €")
    row.update({"Regular price": "5.00", "Sale price": "", "Date sale price starts": "", "Date sale price ends": "",
                "Tax status": "none", "Tax class": "", "Categories": "Uncategorized"})
    yield row
    for k, breakage in enumerate(WOO_BREAKAGES, 1):
        noun = rng.choice(WOO_NOUNS)
        row = woo_simple(rng, next(ids), f"woo-fixed-{k}", f"{rng.choice(ADJECTIVES).title()} {noun}")
        if not clean:
            breakage(row, bad_rng)
        yield row


def woocommerce_records(rng, bad_rng, n, bad, clean):
    yield join_record(WOO_HEADER, ",")
    ids = itertools.count(100)
    left = n
    for row in itertools.islice(woo_fixed_rows(rng, bad_rng, ids, clean), n):
        yield join_record([row[h] for h in WOO_HEADER], ",")
        left -= 1
    k = 0
    while left > 0:
        k += 1
        noun = rng.choice(WOO_NOUNS)
        name = f"{rng.choice(ADJECTIVES).title()} {noun}"
        sku = f"woo-{noun.lower().replace(' ', '-')}-{k}"
        if left >= 3 and rng.random() < 0.1:
            colors = rng.sample(WOO_VARIATION_COLORS, rng.randint(2, min(3, left - 1)))
            rows = woo_variable(rng, ids, sku, name, colors)
        else:
            rows = [woo_simple(rng, next(ids), sku, name)]
        for row in rows:
            if row["Type"] != "variable" and broken_or_not(bad_rng, bad, clean):
                bad_rng.choice(WOO_BREAKAGES)(row, bad_rng)
            yield join_record([row[h] for h in WOO_HEADER], ",")
        left -= len(rows)


# ---------------------------------------------------------------------------------------------- retail

RETAIL_NAME = "projects/p/locations/global/catalogs/default_catalog/branches/0/products/"
RETAIL_NOIMAGE = "https://images.example.com/retail/noimage.jpg"
RETAIL_CATEGORIES = [["Apparel"], ["Apparel", "Apparel > Shirts"], ["Drinkware"], ["Office"], ["Bags"],
                     ["Lifestyle", "Drinkware"]]
RETAIL_NOUNS = ["Tee", "Hoodie", "Mug", "Water Bottle", "Notebook", "Backpack", "Tote Bag", "Cap"]
RETAIL_COLOR_FAMILIES = {"Blue": ["Light blue", "Blue", "Dark blue"], "Red": ["Red", "Maroon"],
                         "Black": ["Black"], "Green": ["Mint", "Green"]}
RETAIL_AVAILABILITY = ["IN_STOCK"] * 15 + ["OUT_OF_STOCK"] * 3 + ["PREORDER", "BACKORDER"]
RETAIL_MATERIALS = ["cotton", "polyester", "ceramic", "recycled plastic", "stainless steel"]
RETAIL_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def retail_money(cents):
    """JSON-string price as in the sample: "16" when whole, else "35.99"."""
    return str(cents // 100) if cents % 100 == 0 else money(cents)


def retail_time(day, end=False):
    return f"{day.isoformat()}T23:59:59Z" if end else f"{day.isoformat()}T00:00:00Z"


def retail_product(rng, i):
    """One valid product object (insertion-ordered dict)."""
    product_id = f"RT-{i:06d}"
    brand = rng.choice(BRANDS)
    title = f"{brand} {rng.choice(ADJECTIVES).title()} {rng.choice(RETAIL_NOUNS)}"
    cents = rng.randrange(300, 12000)
    if rng.random() < 0.3:
        cents = cents // 100 * 100
    price = {"cost": retail_money(cents * rng.randint(30, 60) // 100),
             "currencyCode": "USD" if rng.random() < 0.92 else "EUR"}
    if rng.random() < 0.3:
        _, start, end = sale_window(rng)
        price.update({"originalPrice": retail_money(cents), "price": retail_money(cents * rng.randint(60, 90) // 100),
                      "priceEffectiveTime": retail_time(start), "priceExpireTime": retail_time(end, True)})
    else:
        if rng.random() < 0.4:
            price["originalPrice"] = retail_money(cents)
        price["price"] = retail_money(cents)
    availability = rng.choice(RETAIL_AVAILABILITY)
    product = {"id": product_id, "name": RETAIL_NAME + product_id, "title": title, "brands": [brand],
               "categories": rng.choice(RETAIL_CATEGORIES), "priceInfo": price}
    if rng.random() < 0.7:
        family = rng.choice(sorted(RETAIL_COLOR_FAMILIES))
        product["colorInfo"] = {"colorFamilies": [family], "colors": RETAIL_COLOR_FAMILIES[family]}
    product["availability"] = availability
    product["availableQuantity"] = 0 if availability == "OUT_OF_STOCK" else rng.randint(1, 500)
    uri = RETAIL_NOIMAGE if rng.random() < 0.7 else f"https://images.example.com/retail/{product_id}.jpg"
    product["images"] = [{"height": "300", "width": "400", "uri": uri}]
    if rng.random() < 0.4:
        product["sizes"] = ["S", "M", "L", "XL"][:rng.randint(1, 4)]
    attributes = [{"key": "material", "value": {"text": [rng.choice(RETAIL_MATERIALS)], "indexable": True}}]
    if rng.random() < 0.3:
        attributes.append({"key": "weight_g", "value": {"numbers": [rng.randint(50, 900)], "indexable": True}})
    if rng.random() < 0.2:
        attributes.append({"key": "eco-friendly",
                           "value": {"text": ["Low-impact fabrics"], "indexable": True, "searchable": True}})
    product["attributes"] = attributes
    product["uri"] = f"https://shop.example.com/p/{product_id}"
    return product


def _sale(original, price, start, expire, currency="USD"):
    """Fixed priceInfo update: a sale from start to expire (RFC 3339 strings)."""
    return {"currencyCode": currency, "originalPrice": original, "price": price, "priceEffectiveTime": start,
            "priceExpireTime": expire}


def _retail_quirks(product, k):
    """Fixed valid quirk k (0..7) applied to a random product."""
    info = product["priceInfo"]
    for key in ("originalPrice", "price", "priceEffectiveTime", "priceExpireTime"):
        info.pop(key, None)
    if k == 0:
        product.update({"title": "Café Mug – Blue ☕", "categories": ["Drinkware"]})
        product["images"][0]["uri"] = f"https://images.example.com/retail/{product['id']}.jpg"
        info.update(_sale("16", "12.50", "2026-06-01T00:00:00Z", "2026-06-30T23:59:59Z", "EUR"))
    elif k == 1:
        info.update(_sale("35.99", "29.99", "2026-01-01T00:00:00Z", "2026-01-31T23:59:59Z"))
    elif k == 2:
        info.update(_sale("45", "35", "2020-08-01T12:00:00Z", "2120-08-01T00:00:00Z"))
    elif k == 3:
        info.update(_sale("20", "15", "2026-07-01T00:00:00Z", "2026-07-31T23:59:59Z"))
    elif k == 4:
        info.update({"currencyCode": "USD", "price": "16"})
        product.update({"availability": "OUT_OF_STOCK", "availableQuantity": 0})
        product.pop("colorInfo", None)
        product.pop("sizes", None)
    elif k == 5:
        info.update({"currencyCode": "EUR", "price": "16"})
        product["availability"] = "PREORDER"
    elif k == 6:
        info.update({"currencyCode": "USD", "price": "35.99"})
        product["availability"] = "BACKORDER"
        product["attributes"] = [{"key": "material", "value": {"text": ["cotton"], "indexable": True}},
                                 {"key": "weight_g", "value": {"numbers": [350], "indexable": True}}]
    else:
        info.update({"currencyCode": "USD", "originalPrice": "35.99", "price": "35.99"})
        product.update({"title": "Tee – “Nordic” Edition, unisex", "categories": ["Apparel", "Apparel > Shirts"],
                        "availability": "IN_STOCK"})
        product["colorInfo"] = {"colorFamilies": ["Blue"], "colors": RETAIL_COLOR_FAMILIES["Blue"]}
        product["sizes"] = ["S", "M", "L", "XL"]
    info["cost"] = retail_money(round(float(info["price"]) * 100) * 45 // 100)


RETAIL_QUIRK_COUNT = 8


def _rt_bad_availability(product, rng):
    product["availability"] = "INVALID_VALUE"
    return RETAIL_JSON.encode(product)


def _rt_truncated(product, rng):
    text = RETAIL_JSON.encode(product)
    return text[:len(text) // 2]


def _rt_array(product, rng):
    return "[" + RETAIL_JSON.encode(product) + "]"


def _rt_price_not_a_number(product, rng):
    product["priceInfo"]["price"] = "abc"
    return RETAIL_JSON.encode(product)


def _rt_missing_id(product, rng):
    del product["id"]
    return RETAIL_JSON.encode(product)


def _rt_repeated_id(product, rng):
    product["id"] = "RT-000001"  # the first product's id again
    return RETAIL_JSON.encode(product)


RETAIL_BREAKAGES = [_rt_bad_availability, _rt_truncated, _rt_array, _rt_price_not_a_number, _rt_missing_id,
                    _rt_repeated_id]


def retail_records(rng, bad_rng, n, bad, clean):
    for i in range(1, n + 1):
        product = retail_product(rng, i)
        k = i - 1
        breakage = None
        if k < RETAIL_QUIRK_COUNT:
            _retail_quirks(product, k)
        elif k < RETAIL_QUIRK_COUNT + len(RETAIL_BREAKAGES):
            breakage = None if clean else RETAIL_BREAKAGES[k - RETAIL_QUIRK_COUNT]
        elif broken_or_not(bad_rng, bad, clean):
            breakage = bad_rng.choice(RETAIL_BREAKAGES)
        yield breakage(product, bad_rng) if breakage else RETAIL_JSON.encode(product)


# ---------------------------------------------------------------------------------------------- main

FORMATS = {  # records, line end, line end after the last record, encoding
    "merchant": (merchant_records, "\n", True, "utf-8"),
    "shopify": (shopify_records, "\r\n", False, "utf-8"),
    "woocommerce": (woocommerce_records, "\r\n", True, "cp1252"),
    "retail": (retail_records, "\n", False, "utf-8"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--format", required=True, choices=sorted(FORMATS))
    ap.add_argument("--rows", type=int, default=40, help="data records after the header (default 40)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bad", type=float, default=0.1,
                    help="share of random records (after the fixed block) broken on purpose, 0..1 (default 0.1)")
    ap.add_argument("--clean", action="store_true", help="no broken records at all (fixed ones written unbroken)")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    args = ap.parse_args()
    if args.rows < 0 or not 0.0 <= args.bad <= 1.0:
        ap.error("--rows must be >= 0 and --bad within 0..1")
    rng = random.Random(args.seed)
    bad_rng = random.Random(f"breakage:{args.seed}")  # str seeds go through sha512: stable across runs
    records, eol, final_eol, encoding = FORMATS[args.format]
    lines = records(rng, bad_rng, args.rows, args.bad, args.clean)
    if args.output:
        with open(args.output, "wb") as out:
            write_records(out, lines, eol, final_eol, encoding)
    else:
        write_records(sys.stdout.buffer, lines, eol, final_eol, encoding)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
