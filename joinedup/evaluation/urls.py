from joinedup.evaluation import project_urls, report_urls

app_name = "evaluation"

urlpatterns = [*report_urls.urlpatterns, *project_urls.urlpatterns]
