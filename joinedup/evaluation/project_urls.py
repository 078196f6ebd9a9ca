"""Evaluation projects, saved reports and research extracts."""

urlpatterns: list = []
