"""URL patterns of the service directory, included by the referrals app's URLconf."""

urlpatterns: list = []
