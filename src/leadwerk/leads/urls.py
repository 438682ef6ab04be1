from django.urls import path

from . import model_views, myday_views, question_views, scoring_views, views

app_name = "leads"

urlpatterns = [
    path("leads/", views.lead_inbox, name="lead_inbox"),
    path("leads/new/", views.lead_capture, name="lead_capture"),
    path("leads/settings/", views.lead_settings, name="lead_settings"),
    path("leads/settings/<str:kind>/<int:pk>/toggle/", views.lead_settings_toggle, name="lead_settings_toggle"),
    path("leads/settings/scoring/", scoring_views.scoring_rules, name="scoring_rules"),
    path("leads/settings/scoring/grades/", scoring_views.scoring_settings_save, name="scoring_settings_save"),
    path("leads/settings/scoring/recompute/", scoring_views.scoring_recompute, name="scoring_recompute"),
    path(
        "leads/settings/scoring/recompute/<str:result_id>/",
        scoring_views.scoring_recompute_status,
        name="scoring_recompute_status",
    ),
    path("leads/settings/scoring/rules/new/", scoring_views.scoring_rule_create, name="scoring_rule_create"),
    path("leads/settings/scoring/rules/<int:pk>/", scoring_views.scoring_rule_edit, name="scoring_rule_edit"),
    path("leads/settings/scoring/rules/<int:pk>/toggle/", scoring_views.scoring_rule_toggle, name="scoring_rule_toggle"),
    path("leads/settings/scoring/rules/<int:pk>/move/", scoring_views.scoring_rule_move, name="scoring_rule_move"),
    path("leads/settings/scoring/rules/<int:pk>/delete/", scoring_views.scoring_rule_delete, name="scoring_rule_delete"),
    path("leads/settings/questions/", question_views.question_list, name="question_list"),
    path("leads/settings/questions/<int:pk>/", question_views.question_edit, name="question_edit"),
    path("leads/settings/questions/<int:pk>/toggle/", question_views.question_toggle, name="question_toggle"),
    path("leads/settings/questions/<int:pk>/move/", question_views.question_move, name="question_move"),
    path("leads/settings/model/", model_views.model_settings, name="model_settings"),
    path("leads/settings/model/status/", model_views.model_status, name="model_status"),
    path("leads/settings/model/train/", model_views.model_train, name="model_train"),
    path("leads/settings/model/<int:pk>/activate/", model_views.model_activate, name="model_activate"),
    path("leads/settings/model/<int:pk>/deactivate/", model_views.model_deactivate, name="model_deactivate"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/assign/", views.lead_assign, name="lead_assign"),
    path("leads/<int:pk>/status/", views.lead_transition, name="lead_transition"),
    path("leads/<int:pk>/qualification/", views.lead_qualify, name="lead_qualify"),
    path("leads/<int:pk>/activities/", views.activity_create, name="activity_create"),
    path("leads/<int:pk>/follow-ups/", views.follow_up_create, name="follow_up_create"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow_up_done"),
    path("leads/my-day/", myday_views.my_day, name="my_day"),
    path("leads/my-day/settings/", myday_views.my_day_settings, name="my_day_settings"),
    path("leads/my-day/follow-ups/<int:pk>/done/", myday_views.my_day_follow_up_done, name="my_day_follow_up_done"),
    path("notifications/", myday_views.notification_list, name="notification_list"),
    path("notifications/bell/", myday_views.notification_bell, name="notification_bell"),
    path("notifications/read-all/", myday_views.notification_read_all, name="notification_read_all"),
    path("notifications/<int:pk>/", myday_views.notification_open, name="notification_open"),
    path("notifications/<int:pk>/read/", myday_views.notification_read, name="notification_read"),
]
