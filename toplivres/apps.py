from django.apps import AppConfig


class ToplivresConfig(AppConfig):
    """The project itself: system checks, error pages, project-wide templates tags."""

    name = "toplivres"
    verbose_name = "toplivres"

    def ready(self):
        from toplivres import checks  # noqa: F401  (registers the checks)
