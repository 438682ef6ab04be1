from django.urls import include, path

from . import views

app_name = "accounts"

# Mounted under /<tenant>/ by the project's urls.py.
tenant_patterns = [
    path("", views.overview, name="overview"),
    path("members/", views.member_list, name="member_list"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:pk>/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("members/<int:pk>/reactivate/", views.member_reactivate, name="member_reactivate"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:pk>/", views.team_edit, name="team_edit"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team_delete"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/", views.audit_list, name="audit_list"),
    path("settings/", views.tenant_settings, name="tenant_settings"),
]

urlpatterns = [
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("<slug:tenant>/", include(tenant_patterns)),
]
