"""Documents are checked by what they contain, never by their name. No database."""

import pytest

from joinedup.record.rules import document_problem, document_type

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(20)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
ZIP = b"PK\x03\x04" + bytes(30)
LIMIT = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("head", "expected"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")],
)
def test_pdfs_and_images_are_known_by_their_first_bytes(head, expected):
    assert document_type(head) == expected
    assert document_problem("anything.txt", head, len(head), LIMIT) is None


@pytest.mark.parametrize("head", [HTML, SVG, ZIP, b"Just some text."])
def test_a_file_that_is_not_a_pdf_or_an_image_is_refused_whatever_its_name(head):
    assert document_type(head) is None

    problem = document_problem("discharge-letter.pdf", head, len(head), LIMIT)

    assert problem == (
        "“discharge-letter.pdf” is not a PDF or an image: JoinedUp checks what a file "
        "contains, not its name. Save it as a PDF and upload that."
    )


def test_a_file_over_the_limit_is_refused_saying_both_sizes():
    problem = document_problem("scan.pdf", PDF, 25 * 1024 * 1024 // 2, LIMIT)

    # Sizes as Django writes them, with a no-break space before the unit.
    assert problem == "“scan.pdf” is 12.5\xa0MB; a document can be at most 10.0\xa0MB."
    assert document_problem("scan.pdf", PDF, LIMIT, LIMIT) is None


def test_an_empty_file_is_refused():
    assert document_problem("empty.pdf", b"", 0, LIMIT) == "“empty.pdf” is empty."
