"""QR codes for a survey link: scalable SVG for print, PNG for screens and chat apps. Pure
functions, no queries."""

import io

import segno

from surveys.respond import _luminance, brand_colour

DARK = "#1a1a1a"
LIGHT = "#ffffff"
QUIET_ZONE = 4  # modules; ISO/IEC 18004 asks for four, and phone scanners need them on busy walls
MIN_CONTRAST = 4.5  # WCAG AA against white; paler codes fail on cheap cameras and in dim light


def qr_colour(brand: str) -> str:
    """The brand colour when it is dark enough to scan on white, else near-black."""
    colour = brand_colour(brand)
    contrast = 1.05 / (_luminance(colour) + 0.05)
    return colour if contrast >= MIN_CONTRAST else DARK


def qr_code(url: str) -> segno.QRCode:
    # Error level M at least; segno raises it for free when the data still fits the same version.
    return segno.make_qr(url, error="m", boost_error=True)


def qr_svg(url: str, *, colour: str = DARK, title: str = "") -> bytes:
    """An SVG with a viewBox and no width/height, so it prints sharp at any size."""
    out = io.BytesIO()
    qr_code(url).save(
        out,
        kind="svg",
        border=QUIET_ZONE,
        dark=qr_colour(colour),
        light=LIGHT,
        title=title or None,  # segno escapes it
        omitsize=True,
        xmldecl=False,
    )
    return out.getvalue()


def qr_png(url: str, *, colour: str = DARK, scale: int = 10) -> bytes:
    """A PNG of `scale` pixels a module (clamped to 1..40)."""
    out = io.BytesIO()
    qr_code(url).save(
        out,
        kind="png",
        border=QUIET_ZONE,
        dark=qr_colour(colour),
        light=LIGHT,
        scale=min(max(int(scale), 1), 40),
    )
    return out.getvalue()
