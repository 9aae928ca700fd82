"""Notifications and reminders in the back office: each admin reads his own notifications;
the reminders sent are read-only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy, ngettext

from accounts.admin import ReadOnlyAdminMixin
from operations.models import Notification, Reminder
from operations.services import notification_mark_read, notification_mark_unread
from toplivres.admin_tools import TamperProofActionsMixin, empty_or_set_filter

ReadFilter = empty_or_set_filter(
    field="read_at",
    title=gettext_lazy("read"),
    parameter="read",
    empty=("no", gettext_lazy("Unread")),
    filled=("yes", gettext_lazy("Read")),
)


@admin.register(Notification)
class NotificationAdmin(TamperProofActionsMixin, admin.ModelAdmin):
    list_display = ["event", "operation_link", "partner", "created_at", "is_unread"]
    list_display_links = None
    list_filter = [ReadFilter, "event"]
    actions = ["mark_read", "mark_unread"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(recipient=request.user)
            .select_related("operation", "operation__partner")
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("operation"), ordering="operation__reference")
    def operation_link(self, notice):
        url = reverse("admin:operations_operation_change", args=[notice.operation_id])
        return format_html('<a href="{}">{}</a>', url, notice.operation.reference)

    @admin.display(description=gettext_lazy("partner"))
    def partner(self, notice):
        return notice.operation.partner

    @admin.display(description=gettext_lazy("unread"), boolean=True)
    def is_unread(self, notice):
        return notice.read_at is None

    @admin.action(description=gettext_lazy("Mark as read"))
    def mark_read(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = notification_mark_read(user=request.user, ids=ids)
        self.message_user(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                count,
            )
            % {"count": count},
        )

    @admin.action(description=gettext_lazy("Mark as unread"))
    def mark_unread(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        notification_mark_unread(user=request.user, ids=ids)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdminMixin, TamperProofActionsMixin, admin.ModelAdmin):
    """What `manage.py send_reminders` sent: read-only, one row per reminder."""

    list_display = ["key", "kind", "partner", "step", "sent_at"]
    list_filter = ["kind", "sent_at"]
    list_select_related = ["partner"]
    search_fields = ["key", "partner__store_name"]
    show_full_result_count = False
