"""PDF documents drawn from HTML templates with WeasyPrint."""

from django.conf import settings
from django.template.loader import render_to_string


def render_pdf(template_name: str, context: dict) -> bytes:
    """The template rendered as a PDF. WeasyPrint needs Pango (see scripts/install.sh);
    it is imported here so that the rest of the app starts without it."""
    import weasyprint

    html = render_to_string(template_name, context)
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
