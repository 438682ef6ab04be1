from django.contrib import admin
from django.urls import include, path

from leadwerk.accounts import views as account_views

from .api import api

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("language/", account_views.language_set, name="language_set"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Tenant pages: /<tenant-slug>/…  (slugs that collide with the paths above are reserved)
    path("<slug:tenant>/", include("leadwerk.contacts.urls")),
    path("<slug:tenant>/imports/", include("leadwerk.imports.urls")),
    path("<slug:tenant>/", include("leadwerk.leads.urls")),
    path("", include("leadwerk.accounts.urls")),
]
