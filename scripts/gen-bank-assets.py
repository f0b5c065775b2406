#!/usr/bin/env python3
"""Writes the bank logo and icon SVGs served at /assets/banks/<slug>/.

Small, self-made marks (the bank's initials on its brand colour): no third-party artwork, nothing
loaded from other hosts. Reads the catalogue from crates/okra-core/src/banks.rs so the two cannot
drift; run it again after adding a bank.
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = (ROOT / "crates/okra-core/src/banks.rs").read_text()
OUT = ROOT / "crates/okra-server/assets/banks"

pattern = re.compile(r'bank\("([0-9a-f]{24})", "([^"]+)", "([^"]+)", "[^"]*", "[^"]*", colors\("(#[0-9A-Fa-f]{6})", "(#[0-9A-Fa-f]{6})"')
SKIP = {"of", "for", "by", "and", "the"}


def initials(name):
    words = [w for w in re.split(r"[\s-]+", name) if w and w.lower() not in SKIP]
    letters = "".join(w[0] for w in words if w[0].isalnum()).upper()
    return letters[:3] or name[:2].upper()


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


count = 0
for _id, name, slug, primary, accent in pattern.findall(SRC):
    d = OUT / slug
    d.mkdir(parents=True, exist_ok=True)
    ini = esc(initials(name))
    size = 26 if len(ini) >= 3 else 32
    icon = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label="{esc(name)}">'
        f'<rect width="64" height="64" rx="14" fill="{primary}"/>'
        f'<text x="32" y="42" text-anchor="middle" font-family="Helvetica,Arial,sans-serif" font-weight="700" font-size="{size}" fill="#FFFFFF">{ini}</text></svg>\n'
    )
    v2_icon = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label="{esc(name)}">'
        f'<circle cx="32" cy="32" r="32" fill="{primary}"/><circle cx="50" cy="14" r="8" fill="{accent}"/>'
        f'<text x="32" y="42" text-anchor="middle" font-family="Helvetica,Arial,sans-serif" font-weight="700" font-size="{size}" fill="#FFFFFF">{ini}</text></svg>\n'
    )
    width = max(200, 80 + 11 * len(name))
    logo = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="64" viewBox="0 0 {width} 64" role="img" aria-label="{esc(name)}">'
        f'<rect width="56" height="56" x="4" y="4" rx="12" fill="{primary}"/>'
        f'<text x="32" y="41" text-anchor="middle" font-family="Helvetica,Arial,sans-serif" font-weight="700" font-size="{size - 6}" fill="#FFFFFF">{ini}</text>'
        f'<text x="72" y="40" font-family="Helvetica,Arial,sans-serif" font-weight="600" font-size="18" fill="{primary}">{esc(name)}</text></svg>\n'
    )
    v2_logo = logo.replace(f'fill="{primary}"/>', f'fill="{primary}"/><rect width="{width - 72}" height="3" x="72" y="48" fill="{accent}"/>', 1)
    for fname, content in (("icon.svg", icon), ("logo.svg", logo), ("v2_icon.svg", v2_icon), ("v2_logo.svg", v2_logo)):
        (d / fname).write_text(content)
    count += 1
print(f"wrote assets for {count} banks into {OUT.relative_to(ROOT)}")
