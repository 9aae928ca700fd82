from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_tasks_db.apps import TasksAppConfig


class ToplivresConfig(AppConfig):
    """The project itself: system checks and error pages."""

    name = "toplivres"
    verbose_name = "toplivres"
    default = True  # this module holds two configurations

    def ready(self):
        from django.contrib import admin

        from toplivres import checks  # noqa: F401  (registers the checks)
        from toplivres.admin_tools import harden_admin_site

        harden_admin_site(admin.site)
        # Sent once per app with models; this app has none: hooked on the sessions app,
        # the other piece of shared state kept in the database.
        post_migrate.connect(_create_cache_table, sender=apps.get_app_config("sessions"))


def _create_cache_table(*, using, verbosity=1, **kwargs):
    """`migrate` also creates the database cache's table (a no-op when it exists or when
    CACHE_URL names another cache), so no deployment can forget it."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=max(verbosity - 1, 0))


class TasksDatabaseConfig(TasksAppConfig):
    """django-tasks-db's app under a translatable name: its own is plain English text."""

    verbose_name = _("Background tasks")


# The task model's names are translatable in django-tasks-db but it ships no French: listed
# here so that our catalogue carries them.
TASK_MODEL_NAMES = (gettext_noop("Task Result"), gettext_noop("Task Results"))
