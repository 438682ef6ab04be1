"""Texts of Django and its libraries that their own German catalogues do not translate (yet).

Django looks a text up in the project's catalogue (``LOCALE_PATHS``) before its own, so listing the text here
puts it into ``locale/de`` through ``makemessages`` and German pages show it translated. Remove an entry once
Django's catalogue has it.
"""

from django.utils.translation import gettext_noop

DJANGO_TEXTS = (
    # django.db.models.fields.BLANK_CHOICE_LABEL (new in Django 6.1): the empty option of every select.
    gettext_noop("- Select an option -"),
    # django-auditlog's actions (LogEntry.Action), shown in timelines and the audit log.
    gettext_noop("create"),
    gettext_noop("update"),
    gettext_noop("delete"),
    gettext_noop("access"),
)
