"""Indexes the periodic fold reads its sources by (``analytics.sources``): e-mails by when
they were sent and opened, status changes by when they happened. They are on other apps'
tables but serve only this app, so they are created (and dropped) here; both forms are
plain SQL that PostgreSQL and SQLite accept."""

from django.db import migrations

INDEXES = [
    ("analytics_src_mail_sent", "badges_awardnotification", "sent_at"),
    ("analytics_src_mail_opened", "badges_awardnotification", "opened_at"),
    ("analytics_src_status_at", "badges_awardstatusevent", "at"),
]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_daily_and_monthly_rollups")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column}) "
            f"WHERE {column} IS NOT NULL",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, column in INDEXES
    ]
