from django.db import migrations, models


class Migration(migrations.Migration):
    """Routing counts a member's leads assigned since Monday (weekly capacity) with this index."""

    dependencies = [
        ("leads", "0003_myday"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["tenant", "owner", "assigned_at"], name="lead_owner_assigned"),
        ),
    ]
