from django.db import migrations, models


class Migration(migrations.Migration):
    """The pipeline board at a million leads: each open column's best scores straight from an index, and the
    won/lost columns (last 30 days, newest first) as a range on the closing time, both without a sort."""

    dependencies = [
        ("leads", "0004_routing"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["tenant", "status", "-score", "-id"], name="lead_status_score"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["tenant", "status", "closed_at"], name="lead_status_closed"),
        ),
    ]
