from django.urls import include, path

app_name = "referrals"

urlpatterns = [
    path("services/", include("joinedup.referrals.directory.urls")),
]
