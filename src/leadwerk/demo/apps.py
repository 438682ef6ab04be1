from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "leadwerk.demo"
    label = "demo"
    verbose_name = "Demo data"
