from django.db import migrations, models


class Migration(migrations.Migration):
    """Routing counts a member's leads assigned since Monday (weekly capacity), and reads its rules' version
    stamp (newest change) before every decision."""

    dependencies = [
        ("leads", "0003_myday"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["tenant", "owner", "assigned_at"], name="lead_owner_assigned"),
        ),
        migrations.AddIndex(
            model_name="routingrule",
            index=models.Index(fields=["tenant", "updated_at"], name="routingrule_changed"),
        ),
    ]
