"""QR codes and the printable poster of a survey link, checked the way a person would: the code is
rendered and scanned (zxing-cpp), the PDF is opened and read (pdfium). No database."""

import io
from dataclasses import dataclass
from xml.etree import ElementTree

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import segno
import zxingcpp
from fpdf import FPDF
from PIL import Image

from distribution.sharing.poster import poster_pdf
from distribution.sharing.qr import qr_colour, qr_png, qr_svg

SHORT_URL = "https://cx.example.com/r/srv_4fJk9"
LONG_URL = (
    "https://cx.example.com/r/srv_4fJk9"
    "?channel=qr&hidden_location=Kamppi&hidden_campaign=spring-2027"
)
URLS = [SHORT_URL, LONG_URL]
BRAND = "#1f5f8b"
LIGHT_BRAND = "#ffdd00"
NEAR_BLACK = "#1a1a1a"
PAPER = {"A4": (595.28, 841.89), "A5": (419.53, 595.28)}
POINTS_PER_MM = 72 / 25.4
SVG_NS = "{http://www.w3.org/2000/svg}"


@dataclass
class Page:
    width: float  # points
    height: float
    image: Image.Image
    text: str
    boxes: list[tuple[float, float, float, float]]  # left, bottom, right, top in points
    object_types: list[int]


def open_page(data: bytes, dpi: int = 150) -> Page:
    document = pdfium.PdfDocument(data)
    try:
        assert len(document) == 1
        page = document[0]
        width, height = page.get_size()
        image = page.render(scale=dpi / 72).to_pil().convert("RGB")
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        boxes = [textpage.get_rect(index) for index in range(textpage.count_rects())]
        object_types = [obj.type for obj in page.get_objects()]
        textpage.close()
        page.close()
    finally:
        document.close()
    return Page(width, height, image, text, boxes, object_types)


def scanned(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def svg_rendered(svg: bytes) -> Image.Image:
    # No SVG rasteriser ships with the project, but fpdf2 draws SVG as PDF paths and pdfium
    # renders those: the code is scanned as a third-party SVG reader draws it.
    pdf = FPDF(unit="mm", format=(80, 80))
    pdf.add_page()
    pdf.image(io.BytesIO(svg), x=10, y=10, w=60)
    return open_page(bytes(pdf.output())).image


def poster(**overrides) -> bytes:
    arguments = {
        "url": LONG_URL,
        "heading": "How was your visit today?",
        "organization_name": "Kahvila Mäkelä & Söderström Åbo",
        "colour": BRAND,
        "size": "A4",
        "language": "en",
        "location": "Helsinki Kamppi store",
    }
    return poster_pdf(**{**arguments, **overrides})


def module_colour(image: Image.Image, result) -> tuple[int, int, int]:
    """The colour just inside the top-left finder pattern's outer corner."""
    corner = result.position.top_left
    return image.getpixel((corner.x + 3, corner.y + 3))


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[index : index + 2], 16) for index in (1, 3, 5))


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 6) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), actual


# --- QR codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_svg_code_scans_to_exactly_the_link(url):
    assert scanned(svg_rendered(qr_svg(url, colour=BRAND, title="Survey"))) == [url]


@pytest.mark.parametrize("url", URLS)
def test_png_code_scans_to_exactly_the_link(url):
    assert scanned(Image.open(io.BytesIO(qr_png(url, colour=BRAND)))) == [url]


def test_svg_scales_to_any_print_size_and_carries_an_escaped_title():
    title = 'Feedback <Kamppi> & "Åbo"'
    root = ElementTree.fromstring(qr_svg(SHORT_URL, title=title))

    assert root.tag == f"{SVG_NS}svg"
    assert "width" not in root.attrib and "height" not in root.attrib
    side = len(segno.make_qr(SHORT_URL, error="m").matrix) + 2 * 4  # the quiet zone of 4 modules
    assert root.attrib["viewBox"] == f"0 0 {side} {side}"
    assert root.find(f"{SVG_NS}title").text == title


def test_svg_without_a_title_has_no_empty_title():
    assert b"<title" not in qr_svg(SHORT_URL)


def test_code_has_at_least_medium_error_correction():
    image = Image.open(io.BytesIO(qr_png(LONG_URL)))

    [result] = zxingcpp.read_barcodes(image)
    assert result.ec_level in ("M", "Q", "H")


@pytest.mark.parametrize(("scale", "pixels_per_module"), [(10, 10), (0, 1), (-5, 1), (500, 40)])
def test_png_size_follows_the_scale_within_limits(scale, pixels_per_module):
    side = len(segno.make_qr(SHORT_URL, error="m").matrix) + 2 * 4

    image = Image.open(io.BytesIO(qr_png(SHORT_URL, scale=scale)))

    assert image.size == (side * pixels_per_module, side * pixels_per_module)


def test_dark_brand_colour_is_used_for_the_code():
    assert qr_colour(BRAND) == BRAND
    root = ElementTree.fromstring(qr_svg(SHORT_URL, colour=BRAND))
    strokes = {path.get("stroke") for path in root.iter(f"{SVG_NS}path") if path.get("stroke")}
    assert strokes == {BRAND}
    image = Image.open(io.BytesIO(qr_png(SHORT_URL, colour=BRAND, scale=4))).convert("RGB")
    assert image.getpixel((4 * 4, 4 * 4)) == rgb(BRAND)  # first module after the quiet zone
    assert image.getpixel((0, 0)) == (255, 255, 255)


def test_light_brand_colour_falls_back_to_near_black_so_the_code_scans():
    assert qr_colour(LIGHT_BRAND) == NEAR_BLACK
    root = ElementTree.fromstring(qr_svg(SHORT_URL, colour=LIGHT_BRAND))
    strokes = {path.get("stroke") for path in root.iter(f"{SVG_NS}path") if path.get("stroke")}
    assert strokes == {NEAR_BLACK}
    image = Image.open(io.BytesIO(qr_png(SHORT_URL, colour=LIGHT_BRAND, scale=4))).convert("RGB")
    assert image.getpixel((4 * 4, 4 * 4)) == rgb(NEAR_BLACK)


def test_colour_that_is_not_plain_hex_never_reaches_the_svg():
    svg = qr_svg(SHORT_URL, colour='red" onload="alert(1)')

    assert b"onload" not in svg
    assert scanned(svg_rendered(svg)) == [SHORT_URL]


# --- poster -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_poster_is_one_page_of_the_chosen_paper_size(size):
    page = open_page(poster(size=size))

    assert page.width == pytest.approx(PAPER[size][0], abs=1)
    assert page.height == pytest.approx(PAPER[size][1], abs=1)


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_poster_code_scans_and_the_page_reads_heading_name_link_and_location(size):
    page = open_page(poster(size=size))

    assert scanned(page.image) == [LONG_URL]
    assert "How was your visit today?" in page.text
    assert "Kahvila Mäkelä & Söderström Åbo" in page.text
    assert "ä" in page.text and "ö" in page.text and "Å" in page.text
    assert LONG_URL in page.text
    assert "Helsinki Kamppi store" in page.text
    assert "Scan the code with your phone's camera" in page.text
    assert "It takes about a minute." in page.text
    assert "Or open:" in page.text
    assert "Thank you for your feedback!" in page.text


@pytest.mark.parametrize(("size", "share"), [("A4", 0.53), ("A5", 0.60)])
def test_poster_code_is_large_and_centred(size, share):
    page = open_page(poster(size=size))

    [result] = zxingcpp.read_barcodes(page.image)
    left, right = result.position.top_left.x, result.position.top_right.x
    assert (right - left) / page.image.width >= share
    assert abs((left + right) / 2 - page.image.width / 2) <= 3


def test_poster_code_is_vector_paths_not_a_bitmap():
    page = open_page(poster())

    assert pdfium_c.FPDF_PAGEOBJ_IMAGE not in page.object_types
    assert pdfium_c.FPDF_PAGEOBJ_PATH in page.object_types


def test_poster_code_and_band_use_a_dark_brand_colour():
    page = open_page(poster(colour=BRAND))

    [result] = zxingcpp.read_barcodes(page.image)
    assert_close(module_colour(page.image, result), rgb(BRAND))
    band = page.image.getpixel((int(page.image.width * 0.1), int(page.image.height * 0.06)))
    assert_close(band, rgb(BRAND))


def test_poster_band_keeps_a_light_brand_colour_but_the_code_turns_near_black():
    page = open_page(poster(colour=LIGHT_BRAND))

    [result] = zxingcpp.read_barcodes(page.image)
    assert_close(module_colour(page.image, result), rgb(NEAR_BLACK))
    band = page.image.getpixel((int(page.image.width * 0.1), int(page.image.height * 0.06)))
    assert_close(band, rgb(LIGHT_BRAND))


def test_poster_names_its_title_and_language_for_readers():
    data = poster(heading="Miten käyntisi meni?", language="fi")

    document = pdfium.PdfDocument(data)
    try:
        assert document.get_metadata_dict()["Title"] == "Miten käyntisi meni?"
    finally:
        document.close()
    assert b"/Lang (fi)" in data


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_poster_renders_in_finnish_and_swedish(language):
    page = open_page(poster(language=language, size="A5"))

    assert scanned(page.image) == [LONG_URL]
    assert "Kahvila Mäkelä & Söderström Åbo" in page.text


def test_poster_without_a_heading_asks_how_we_did():
    page = open_page(poster(heading="  "))

    assert "Tell us how we did" in page.text


def test_poster_without_a_location_leaves_the_line_out():
    page = open_page(poster(location=""))

    assert "Helsinki" not in page.text
    assert scanned(page.image) == [LONG_URL]


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_heading_beyond_the_fonts_characters_still_renders_and_scans(size):
    page = open_page(
        poster(heading="Łódź ☕ – “quoted”", organization_name="Kraków 😀 Oy", size=size)
    )

    assert scanned(page.image) == [LONG_URL]
    assert "Lódz" in page.text  # the closest the font can show
    assert "– “quoted”" in page.text  # in windows-1252, so kept as written
    assert "Kraków" in page.text


@pytest.mark.parametrize("heading_length", [300, 3000])  # 3000 no longer fits even when shrunk
@pytest.mark.parametrize("size", ["A4", "A5"])
def test_very_long_heading_and_link_stay_inside_the_printable_area_and_scan(size, heading_length):
    sentence = "How likely are you to recommend our Kamppi store to a friend? "
    long_heading = (sentence * 50)[:heading_length]
    long_url = LONG_URL + "&hidden_note=" + "kiitos-" * 60
    long_name = "Suomen Asiakaskokemus ja Palvelumuotoilu Osakeyhtiö " * 4

    page = open_page(
        poster(url=long_url, heading=long_heading, organization_name=long_name, size=size)
    )

    assert scanned(page.image) == [long_url]
    margin = 12 * POINTS_PER_MM - 1  # printers' unprintable edge, with a point for glyph overhang
    assert page.boxes
    for left, bottom, right, top in page.boxes:
        assert margin <= left < right <= page.width - margin
        assert margin <= bottom < top <= page.height - margin
    assert "How likely are you to recommend" in page.text


def test_paper_size_other_than_a4_or_a5_is_refused():
    with pytest.raises(ValueError, match="A3"):
        poster(size="A3")


def test_language_other_than_finnish_swedish_or_english_is_refused():
    with pytest.raises(ValueError, match="de"):
        poster(language="de")
