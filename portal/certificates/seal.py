"""The demo seal: drawn when an archive has no seal image yet, and marked so that nobody takes
it for a real one.

It is Typst code included in the certificate template, so its text is real text (the words
演示印章 can be found and extracted), in the same embedded font as the rest of the page."""
from __future__ import annotations

# `demo-seal(name)`: a red ring with the archive's name along the upper arc, a five-pointed star
# in the middle and 演示印章 under it — the layout of a Chinese official seal, 40 mm across.
TYPST = r"""
#let seal-red = rgb("#d7141a")
#let demo-seal(name) = {
  let size = 40mm
  let r = size / 2
  let ink = seal-red.transparentize(12%)
  let chars = name.clusters()
  let n = chars.len()
  // The name spreads over up to 250° of the ring; long names get smaller characters.
  let step = if n > 12 { 19deg } else if n > 9 { 22deg } else { 26deg }
  let span = calc.min(250deg, step * calc.max(n - 1, 0))
  let glyph = if n > 12 { 8.5pt } else if n > 9 { 10pt } else { 11.5pt }
  let star-r = 6.5mm
  let star = range(10).map(k => {
    let a = k * 36deg
    let len = if calc.even(k) { star-r } else { star-r * 0.382 }
    (star-r + len * calc.sin(a), star-r - len * calc.cos(a))
  })
  box(width: size, height: size, {
    place(center + horizon, circle(radius: r - 0.8mm, stroke: 1.3mm + ink))
    for (i, ch) in chars.enumerate() {
      let a = if n <= 1 { 0deg } else { -span / 2 + span * i / (n - 1) }
      let rt = r - 5.6mm
      place(center + horizon, dx: rt * calc.sin(a), dy: -rt * calc.cos(a),
        rotate(a, text(font: serif, weight: "bold", size: glyph, fill: ink, ch)))
    }
    place(center + horizon, dy: -1mm, box(width: 2 * star-r, height: 2 * star-r, polygon(fill: ink, ..star)))
    place(center + horizon, dy: 9.5mm, text(font: sans, weight: "bold", size: 9pt, fill: ink, "演示印章"))
  })
}
"""
