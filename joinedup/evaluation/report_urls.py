"""Service reports and benchmarking."""

urlpatterns: list = []
