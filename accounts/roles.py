"""The publisher's team: staff without superuser rights, in one group with exactly the
permissions the back office needs. Superusers (who manage the team itself) are made with
`manage.py createsuperuser`."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

BACK_OFFICE_GROUP = "Back office"

# (app_label, model, actions): what a team member does in the admin. Users, groups and
# permissions stay with superusers; deletions are guarded by each admin (rule 6).
BACK_OFFICE_PERMISSIONS = [
    ("accounts", "partner", ("view", "add", "change")),
    ("catalog", "book", ("view", "add", "change", "delete")),
    ("catalog", "series", ("view", "add", "change", "delete")),
    ("operations", "operation", ("view", "change", "delete")),
    ("operations", "notification", ("view", "change")),
    ("operations", "reminder", ("view",)),
    ("operations", "payment", ("view", "add", "change")),
    ("axes", "accessattempt", ("view", "delete")),
    ("axes", "accessfailurelog", ("view",)),
    ("axes", "accesslog", ("view",)),
]


def back_office_permissions():
    condition = Q(pk__in=[])
    for app_label, model, actions in BACK_OFFICE_PERMISSIONS:
        condition |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    return Permission.objects.filter(condition)


def back_office_group() -> Group:
    """The team's group, created on first use and brought up to date each time."""
    group, _created = Group.objects.get_or_create(name=BACK_OFFICE_GROUP)
    group.permissions.set(back_office_permissions())
    return group
