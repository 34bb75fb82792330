"""A stacked bar chart as a PNG, in pure Python (zlib + struct): the digest's daily volume by severity.

No plotting library: the install stays light, and the chart needs only rectangles and a few
capital letters (a 5×7 bitmap font below).
"""

from __future__ import annotations

import struct
import zlib

Color = tuple[int, int, int]

WHITE: Color = (255, 255, 255)
INK: Color = (40, 40, 48)
GRID: Color = (222, 222, 228)
MUTED: Color = (110, 110, 120)
SEVERITY_COLORS: dict[str, Color] = {"critical": (200, 40, 50), "high": (240, 140, 30), "medium": (235, 200, 50)}

# 5×7 glyphs, one integer per row, bit 4 the leftmost pixel.
_FONT_ROWS = {
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11110 10001 10001 10001 10001 10001 11110",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    "/": "00001 00010 00010 00100 01000 01000 10000",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    ",": "00000 00000 00000 00000 01100 00100 01000",
    "(": "00010 00100 01000 01000 01000 00100 00010",
    ")": "01000 00100 00010 00010 00010 00100 01000",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}
FONT = {ch: [int(row, 2) for row in rows.split()] for ch, rows in _FONT_ROWS.items()}


class Canvas:
    def __init__(self, width: int, height: int, background: Color = WHITE) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, color: Color) -> None:
        x0, y0, x1, y1 = max(0, x), max(0, y), min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        line = bytes(color) * (x1 - x0)
        for row in range(y0, y1):
            start = (row * self.width + x0) * 3
            self.pixels[start : start + len(line)] = line

    def text(self, x: int, y: int, text: str, color: Color = INK, scale: int = 2) -> int:
        """Draw capitals, digits and a little punctuation; returns the x after the text."""
        for ch in text.upper():
            for r, bits in enumerate(FONT.get(ch, FONT[" "])):
                for c in range(5):
                    if bits & (1 << (4 - c)):
                        self.rect(x + c * scale, y + r * scale, scale, scale, color)
            x += 6 * scale
        return x

    @staticmethod
    def text_width(text: str, scale: int = 2) -> int:
        return len(text) * 6 * scale - scale

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3]) for y in range(self.height))
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _nice_step(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if top / step <= 5:
            return step
    return max(1, top // 5)


def stacked_bars(labels: list[str], series: dict[str, list[int]], *, title: str, width: int = 720, height: int = 400) -> bytes:
    """Bars per label, stacked by series (in SEVERITY_COLORS order, bottom up), with a legend; PNG bytes."""
    canvas = Canvas(width, height)
    names = [n for n in SEVERITY_COLORS if n in series] + [n for n in series if n not in SEVERITY_COLORS]
    totals = [sum(series[n][i] for n in names) for i in range(len(labels))]
    step = _nice_step(max(totals + [1]))
    top = max(step, -(-max(totals + [1]) // step) * step)
    left, right, plot_top, plot_bottom = 64, width - 24, 104, height - 56  # room above the tallest bar for its count

    canvas.text(left, 20, title, INK, 2)
    x = left  # the legend, under the title
    for name in names:
        canvas.rect(x, 50, 14, 14, SEVERITY_COLORS.get(name, MUTED))
        x = canvas.text(x + 20, 50, name, INK, 2) + 18
    for value in range(0, top + 1, step):  # grid lines and their labels
        y = plot_bottom - round((plot_bottom - plot_top) * value / top)
        canvas.rect(left, y, right - left, 1, GRID)
        label = str(value)
        canvas.text(left - 10 - canvas.text_width(label), y - 7, label, MUTED, 2)
    slot = (right - left) / max(1, len(labels))
    bar = max(4, int(slot * 0.6))
    for i, label in enumerate(labels):
        x0 = round(left + slot * i + (slot - bar) / 2)
        y = plot_bottom
        for name in names:
            h = round((plot_bottom - plot_top) * series[name][i] / top)
            if h:
                canvas.rect(x0, y - h, bar, h, SEVERITY_COLORS.get(name, MUTED))
                y -= h
        if totals[i]:
            count = str(totals[i])
            canvas.text(x0 + (bar - canvas.text_width(count)) // 2, y - 20, count, INK, 2)
        canvas.text(round(left + slot * i + (slot - canvas.text_width(label)) / 2), plot_bottom + 12, label, INK, 2)
    canvas.rect(left, plot_bottom, right - left, 2, INK)  # the axis
    return canvas.png()
