"""The interactive documentation at /api/docs: Swagger UI, served from django-ninja's own
static files with no inline script and nothing from another origin, so it works under the
site's Content-Security-Policy; in British English, with colours that meet WCAG contrast."""

import json

from django.shortcuts import render
from ninja.openapi.docs import Swagger


class Docs(Swagger):
    template = "api/docs.html"
    # Deep links put a link inside each operation's toggle button (nested controls).
    default_settings = {"layout": "BaseLayout", "deepLinking": False}

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": json.dumps(self.settings), "api": api}
        return render(request, self.template, context)
