from django.urls import path

from . import dedup_views, views

app_name = "contacts"

urlpatterns = [
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/export/", views.person_export, name="person_export"),
    path("people/bulk/", views.person_bulk, name="person_bulk"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/delete/", views.person_delete, name="person_delete"),
    path("people/<int:pk>/consent/", views.person_consent, name="person_consent"),
    path("people/<int:pk>/suppress/", views.person_suppress, name="person_suppress"),
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/export/", views.organization_export, name="organization_export"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/delete/", views.organization_delete, name="organization_delete"),
    path("suppressions/", views.suppression_list, name="suppression_list"),
    path("attributes/", views.attribute_list, name="attribute_list"),
    path("attributes/<int:pk>/delete/", views.attribute_delete, name="attribute_delete"),
]

# Segments: builder, counts, snapshots, members, mailing export (contacts/segment_views.py).
from . import segment_views  # noqa: E402

urlpatterns += [
    path("segments/", segment_views.segment_list, name="segment_list"),
    path("segments/new/", segment_views.segment_create, name="segment_create"),
    path("segments/builder/", segment_views.segment_builder, name="segment_builder"),
    path("segments/count/", segment_views.segment_count_preview, name="segment_count_preview"),
    path("segments/add-members/", segment_views.segment_members_add, name="segment_members_add_any"),
    path("segments/<int:pk>/", segment_views.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/edit/", segment_views.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/delete/", segment_views.segment_delete, name="segment_delete"),
    path("segments/<int:pk>/count/", segment_views.segment_count_refresh, name="segment_count_refresh"),
    path("segments/<int:pk>/snapshot/", segment_views.segment_freeze, name="segment_freeze"),
    path("segments/<int:pk>/members/", segment_views.segment_members, name="segment_members"),
    path("segments/<int:pk>/members/add/", segment_views.segment_members_add, name="segment_members_add"),
    path("segments/<int:pk>/members/remove/", segment_views.segment_members_remove, name="segment_members_remove"),
    path("segments/<int:pk>/export/", segment_views.segment_export, name="segment_export"),
]

# Duplicates: search runs, the review queue, merges (contacts/dedup_views.py).
urlpatterns += [
    path("duplicates/", dedup_views.duplicate_list, name="duplicate_list"),
    path("duplicates/runs/", dedup_views.duplicate_run_start, name="duplicate_run_start"),
    path("duplicates/runs/<int:pk>/", dedup_views.duplicate_run, name="duplicate_run"),
    path("duplicates/<int:pk>/", dedup_views.duplicate_pair, name="duplicate_pair"),
    path("duplicates/<int:pk>/merge/", dedup_views.duplicate_merge, name="duplicate_merge"),
    path("duplicates/<int:pk>/dismiss/", dedup_views.duplicate_dismiss, name="duplicate_dismiss"),
    path("merges/<int:pk>/", dedup_views.duplicate_merge_detail, name="duplicate_merge_detail"),
    path("merges/<int:pk>/undo/", dedup_views.duplicate_merge_undo, name="duplicate_merge_undo"),
]
