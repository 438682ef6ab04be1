from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("upload/", views.import_upload, name="upload"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/rejected.csv", views.import_rejected, name="rejected"),
    path("<int:pk>/<str:action>/", views.import_action, name="action"),
]
