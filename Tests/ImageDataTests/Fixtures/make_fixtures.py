#!/usr/bin/env python3
"""Writes the PNG fixtures of ImageDataTests with an encoder independent of libpng.

The PNGs are assembled by hand (zlib + struct, following the PNG specification), one per colour
type, bit depth and interlace method, and `expected.json` records the 8-bit RGB (+ alpha) pixels
each one must decode to. If Pillow is installed, every fixture is also decoded with Pillow and
compared with the expected values, as a check of this script itself.

Run from anywhere:  python3 Tests/ImageDataTests/Fixtures/make_fixtures.py
The tests never run Python; the outputs are committed.
"""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 7, 5  # odd sizes exercise partial bytes and every Adam7 pass


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """Packs one row of integer samples at `depth` bits each (MSB first)."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def raw_data(rows, depth, interlace):
    """rows: list of rows, each a list of pixels, each a tuple of channel samples."""
    def scanlines(sub):
        data = bytearray()
        for r in sub:
            flat = [c for px in r for c in px]
            data += b"\x00" + pack_row(flat, depth)  # filter type 0 (None)
        return data

    if not interlace:
        return bytes(scanlines(rows))
    data = bytearray()
    for (x0, y0, dx, dy) in ADAM7:
        sub = [[rows[y][x] for x in range(x0, W, dx)] for y in range(y0, H, dy)]
        if sub and sub[0]:
            data += scanlines(sub)
    return bytes(data)


def png(rows, depth, colour_type, interlace=False, palette=None, trns=None, width=W, height=H):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 1 if interlace else 0)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if palette is not None:
        out += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(raw_data(rows, depth, interlace), 9)) if rows else chunk(b"IDAT", zlib.compress(b""))
    return out + chunk(b"IEND", b"")


def sample(x, y, c, maxv):
    return (x * 37 + y * 91 + c * 53 + 11) % (maxv + 1)


def make_all():
    fixtures, expected = {}, {}

    def add(name, data, rgb, alpha):
        fixtures[name] = data
        expected[name] = {"width": W, "height": H, "rgb": rgb, "alpha": alpha}

    # Gray, every bit depth, plain and interlaced.
    for depth in (1, 2, 4, 8, 16):
        maxv = (1 << depth) - 1
        for interlace in (False, True):
            if depth == 16:
                val = lambda x, y: sample(x, y, 0, 255) * 257
                to8 = lambda v: v // 257
            else:
                val = lambda x, y, m=maxv: sample(x, y, 0, m)
                to8 = lambda v, m=maxv: v * 255 // m
            rows = [[(val(x, y),) for x in range(W)] for y in range(H)]
            rgb = [to8(px[0]) for r in rows for px in r for _ in range(3)]
            add(f"gray{depth}{'_interlaced' if interlace else ''}", png(rows, depth, 0, interlace), rgb, None)

    # RGB 8 and 16, plain and interlaced.
    for depth in (8, 16):
        for interlace in (False, True):
            scale = 257 if depth == 16 else 1
            rows = [[tuple(sample(x, y, c, 255) * scale for c in range(3)) for x in range(W)] for y in range(H)]
            rgb = [v // scale for r in rows for px in r for v in px]
            add(f"rgb{depth}{'_interlaced' if interlace else ''}", png(rows, depth, 2, interlace), rgb, None)

    # Gray + alpha and RGBA, 8 and 16.
    for depth in (8, 16):
        scale = 257 if depth == 16 else 1
        rows = [[(sample(x, y, 0, 255) * scale, sample(x, y, 3, 255) * scale) for x in range(W)] for y in range(H)]
        add(f"gray_alpha{depth}", png(rows, depth, 4),
            [px[0] // scale for r in rows for px in r for _ in range(3)], [px[1] // scale for r in rows for px in r])
        rows = [[tuple(sample(x, y, c, 255) * scale for c in range(4)) for x in range(W)] for y in range(H)]
        add(f"rgba{depth}", png(rows, depth, 6),
            [v // scale for r in rows for px in r for v in px[:3]], [px[3] // scale for r in rows for px in r])
    rows = [[tuple(sample(x, y, c, 255) for c in range(4)) for x in range(W)] for y in range(H)]
    add("rgba8_interlaced", png(rows, 8, 6, True),
        [v for r in rows for px in r for v in px[:3]], [px[3] for r in rows for px in r])

    # Palette, every bit depth; 8-bit also with a tRNS chunk (palette alpha).
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        palette = [((i * 67 + 5) % 256, (i * 131 + 77) % 256, (i * 29 + 200) % 256) for i in range(n)]
        rows = [[(sample(x, y, 0, n - 1),) for x in range(W)] for y in range(H)]
        add(f"palette{depth}", png(rows, depth, 3, palette=palette),
            [v for r in rows for px in r for v in palette[px[0]]], None)
    palette = [((i * 67 + 5) % 256, (i * 131 + 77) % 256, (i * 29 + 200) % 256) for i in range(256)]
    trns = bytes((i * 97 + 3) % 256 for i in range(256))
    rows = [[(sample(x, y, 0, 255),) for x in range(W)] for y in range(H)]
    add("palette8_trns", png(rows, 8, 3, palette=palette, trns=trns),
        [v for r in rows for px in r for v in palette[px[0]]], [trns[px[0]] for r in rows for px in r])

    return fixtures, expected


def check_with_pillow(fixtures, expected):
    try:
        from PIL import Image
    except ImportError:
        print("Pillow not installed: skipped the cross-check")
        return
    import io
    for name, data in fixtures.items():
        im = Image.open(io.BytesIO(data))
        im.load()
        exp = expected[name]
        if im.mode in ("I;16", "I;16B", "I"):
            px = [v >> 8 for v in im.getdata()]
            rgb = [v for v in px for _ in range(3)]
            alpha = None
        else:
            has_alpha = exp["alpha"] is not None
            conv = im.convert("RGBA" if has_alpha else "RGB")
            flat = list(conv.getdata())
            rgb = [v for p in flat for v in p[:3]]
            alpha = [p[3] for p in flat] if has_alpha else None
        assert rgb == exp["rgb"], f"{name}: Pillow disagrees on RGB"
        assert alpha == exp["alpha"], f"{name}: Pillow disagrees on alpha"
    print(f"Pillow {Image.__version__ if hasattr(Image, '__version__') else ''} agrees on {len(fixtures)} fixtures")


def main():
    fixtures, expected = make_all()
    check_with_pillow(fixtures, expected)
    for name, data in fixtures.items():
        with open(os.path.join(HERE, name + ".png"), "wb") as f:
            f.write(data)
    # Defective files: a zero-width image (valid CRCs) and a file that is not a PNG at all.
    with open(os.path.join(HERE, "bad_zero_width.png"), "wb") as f:
        f.write(png([], 8, 0, width=0, height=H))
    with open(os.path.join(HERE, "bad_signature.png"), "wb") as f:
        f.write(b"GIF89a this is not a PNG file at all, only a few bytes of text\n")
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(fixtures)} fixtures + 2 defective files to {HERE}")


if __name__ == "__main__":
    main()
