"""The back office for accounts: partners are created, invited, suspended and reactivated
through accounts.services; the admin never types a partner's password."""

from functools import partial

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.admin import BaseGenericInlineFormSet, GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.forms_admin import AdminUserCreationForm, PartnerCreationForm, ReasonForm
from accounts.models import AuditEntry, Partner, User
from accounts.services import (
    PARTNER_ADMIN_FIELDS,
    USER_ADMIN_FIELDS,
    USER_ADMIN_RELATIONS,
    partner_invite,
    partner_onboard,
    partner_reactivate,
    partner_suspend,
    partner_update,
    user_create,
    user_password_changed,
    user_update,
)
from toplivres.admin_tools import (
    ServiceActionsMixin,
    TamperProofActionsMixin,
    empty_or_set_filter,
)

# -- the audit log: read-only everywhere ---------------------------------------------------------

AUDIT_FIELDS = ["at", "action", "actor_repr", "object_repr", "changes", "reason", "ip"]


def audit_changes(entry: AuditEntry):
    """before → after, one field per line."""
    names = list(dict.fromkeys([*entry.before, *entry.after]))
    if not names:
        return "—"
    return format_html_join(
        mark_safe("<br>"),
        "{}: {} → {}",
        (
            (name, _shown(entry.before.get(name, "")), _shown(entry.after.get(name, "")))
            for name in names
        ),
    )


def _shown(value):
    return "—" if value in (None, "") else value


class ReadOnlyAdminMixin:
    """Nothing can be added, changed or deleted here (audit rows, reminders sent: facts);
    with no delete permission, the admin offers no "delete selected" action either."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _NewestFirstMixin:
    """An inline formset that shows only the newest `max_shown` rows."""

    max_shown = 20

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            self._queryset = super().get_queryset().order_by("-at", "-pk")[: self.max_shown]
        return self._queryset


class RecentAuditFormSet(_NewestFirstMixin, BaseInlineFormSet):
    pass


class RecentGenericAuditFormSet(_NewestFirstMixin, BaseGenericInlineFormSet):
    pass


class _AuditInlineMixin(ReadOnlyAdminMixin):
    model = AuditEntry
    fields = AUDIT_FIELDS
    readonly_fields = AUDIT_FIELDS
    can_delete = False
    extra = 0
    max_num = 0
    show_change_link = True
    verbose_name_plural = gettext_lazy("history (newest first)")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("accounts.view_auditentry")

    @admin.display(description=gettext_lazy("changes"))
    def changes(self, entry):
        return audit_changes(entry)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(None)


class AuditEntryInline(_AuditInlineMixin, GenericTabularInline):
    """The audit rows of the object on the page (its content type and id). Add it to any
    ModelAdmin: `inlines = [AuditEntryInline]`, and leave it off the add page (a new object
    has no history, and its empty formset would be posted for nothing):
    `def get_inlines(self, request, obj): return [] if obj is None else self.inlines`."""

    ct_field = "content_type"
    ct_fk_field = "object_id"
    formset = RecentGenericAuditFormSet


class PartnerAuditEntryInline(_AuditInlineMixin, admin.TabularInline):
    """Everything about a partner: its own rows and those of its operations, invoices…"""

    fk_name = "partner"
    formset = RecentAuditFormSet


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "action", "actor_repr", "object_repr", "partner", "ip"]
    list_filter = ["action", "content_type", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_repr", "object_repr"]
    list_select_related = ["partner"]
    show_full_result_count = False
    actions = None
    fields = [
        "at",
        "action",
        "actor_repr",
        "content_type",
        "object_id",
        "object_repr",
        "partner",
        "changes",
        "reason",
        "ip",
    ]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("changes"))
    def changes(self, entry):
        return audit_changes(entry)


@admin.register(User)
class UserAdmin(TamperProofActionsMixin, DjangoUserAdmin):
    add_form = AdminUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "full_name", "partner__store_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("full_name", "role", "language")}),
        (
            gettext_lazy("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "description": gettext_lazy(
                    "A member of the publisher's team. Create partners from Partners: they "
                    "receive an invitation to choose their password."
                ),
                "fields": ("email", "full_name", "language", "password1", "password2"),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_login", "date_joined"]
        if obj is not None:
            readonly.append("role")
            if obj.is_partner:
                # A partner never becomes staff; its access follows suspension (Partners).
                readonly += ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_partner:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            user_create(user=obj, by=request.user)
            return
        editable = {*USER_ADMIN_FIELDS, *USER_ADMIN_RELATIONS}
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in editable and name in form.cleaned_data
        }
        user_update(user=obj, by=request.user, **fields)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.is_partner:
            # A partner chooses its own password (invitation, reset link); nobody types it.
            first, *rest = fieldsets
            fields = [name for name in first[1]["fields"] if name != "password"]
            fieldsets = ((first[0], {**first[1], "fields": fields}), *rest)
        return fieldsets

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is not None and user.is_partner:
            raise PermissionDenied
        # The password form saves through Django's own code; the audit row joins its
        # transaction, so the change and its record commit together.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user_password_changed(user=user, by=request.user)
        return response


StatusFilter = empty_or_set_filter(
    field="suspended_at",
    title=gettext_lazy("status"),
    parameter="status",
    empty=("active", gettext_lazy("Active")),
    filled=("suspended", gettext_lazy("Suspended")),
)


SUSPENSION_LABELS = {
    "partner.suspended": gettext_lazy("Suspended"),
    "partner.reactivated": gettext_lazy("Reactivated"),
}


@admin.register(Partner)
class PartnerAdmin(ServiceActionsMixin, TamperProofActionsMixin, admin.ModelAdmin):
    list_display = ["store_name", "city", "email", "commission_rate", "is_active", "created_at"]
    list_filter = [StatusFilter, "city"]
    search_fields = ["store_name", "city", "user__email", "contact_name"]
    list_select_related = ["user"]
    list_per_page = 50  # a page of stores, as the stock and sales tables show
    actions = ["resend_invitation", "suspend", "reactivate"]
    inlines = [PartnerAuditEntryInline]
    add_form = PartnerCreationForm
    add_fieldsets = [
        (None, {"fields": ["email", "language"]}),
        (
            gettext_lazy("Store"),
            {
                "fields": [
                    "store_name",
                    "contact_name",
                    "address",
                    ("postal_code", "city"),
                    "phone",
                    "commission_rate",
                ]
            },
        ),
    ]
    fieldsets = [
        (None, {"fields": ["user_email", "created_at"]}),
        (
            gettext_lazy("Store"),
            {
                "fields": [
                    "store_name",
                    "contact_name",
                    "address",
                    ("postal_code", "city"),
                    "phone",
                    "commission_rate",
                    "reminders_enabled",
                ]
            },
        ),
        (
            gettext_lazy("Suspension"),
            {
                "fields": [
                    "suspended_at",
                    "suspended_by",
                    "suspension_reason",
                    "suspension_history",
                ]
            },
        ),
    ]
    readonly_fields = [
        "user_email",
        "created_at",
        "suspended_at",
        "suspended_by",
        "suspension_reason",
        "suspension_history",
    ]

    @admin.display(description=gettext_lazy("e-mail address"), ordering="user__email")
    def email(self, partner):
        return partner.user.email

    @admin.display(description=gettext_lazy("e-mail address (login)"))
    def user_email(self, partner):
        return partner.user.email

    @admin.display(description=gettext_lazy("active"), boolean=True)
    def is_active(self, partner):
        return not partner.is_suspended

    @admin.display(description=gettext_lazy("suspension history"))
    def suspension_history(self, partner):
        entries = AuditEntry.objects.filter(partner=partner, action__in=SUSPENSION_LABELS).order_by(
            "-at", "-pk"
        )
        rows = [
            (
                date_format(timezone.localtime(entry.at), "SHORT_DATETIME_FORMAT"),
                SUSPENSION_LABELS[entry.action],
                entry.actor_repr or _("system"),
                entry.reason or "—",
            )
            for entry in entries
        ]
        if not rows:
            return _("Never suspended.")
        return format_html(
            "<ul class='suspension-history'>{}</ul>",
            format_html_join("", "<li>{} · {} · {} · {}</li>", rows),
        )

    def has_delete_permission(self, request, obj=None):
        return False  # history stays: suspend instead

    # -- adding: store details and e-mail, through partner_onboard --------------------------

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = None
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            # Only the fields edited here, under the partner's lock: a suspension made
            # meanwhile is never overwritten.
            fields = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in PARTNER_ADMIN_FIELDS
            }
            partner_update(partner=obj, by=request.user, **fields)
            return
        data = form.cleaned_data
        partner = partner_onboard(
            email=data["email"],
            language=data["language"],
            store_name=data["store_name"],
            contact_name=data["contact_name"],
            address=data["address"],
            postal_code=data["postal_code"],
            city=data["city"],
            phone=data["phone"],
            commission_rate=data["commission_rate"],
            by=request.user,
        )
        obj.pk, obj.user, obj.created_at = partner.pk, partner.user, partner.created_at
        self.message_user(
            request,
            _("An invitation to choose a password was e-mailed to %(email)s.")
            % {"email": partner.user.email},
        )

    # -- actions -------------------------------------------------------------------------------

    def refusal_message(self, partner, error):
        return _("%(store)s: %(error)s") % {
            "store": partner.store_name,
            "error": " ".join(error.messages),
        }

    @admin.action(description=gettext_lazy("Send the invitation e-mail again"))
    def resend_invitation(self, request, queryset):
        self.apply_to_each(
            request,
            queryset,
            lambda partner: partner_invite(partner=partner, by=request.user),
            lambda n: (
                ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=gettext_lazy("Suspend the selected partners…"))
    def suspend(self, request, queryset, single=None):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self.apply_to_each(
                request,
                queryset,
                lambda partner: partner_suspend(partner=partner, by=request.user, reason=reason),
                lambda n: (
                    ngettext(
                        "%(count)d partner suspended: its sessions are closed.",
                        "%(count)d partners suspended: their sessions are closed.",
                        n,
                    )
                    % {"count": n}
                ),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Suspend partners"),
            "step": "suspend",
            "form": form,
            "queryset": queryset,
            "single": single,
            "opts": self.opts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/accounts/partner/suspend.html", context)

    @admin.action(description=gettext_lazy("Reactivate the selected partners"))
    def reactivate(self, request, queryset):
        self.apply_to_each(
            request,
            queryset,
            lambda partner: partner_reactivate(partner=partner, by=request.user),
            lambda n: (
                ngettext("%(count)d partner reactivated.", "%(count)d partners reactivated.", n)
                % {"count": n}
            ),
        )

    # -- buttons on the change page, and what the partner holds --------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/suspend/",
                wrap(partial(self.partner_step_view, step="suspend")),
                name="accounts_partner_suspend",
            ),
            path(
                "<path:object_id>/reactivate/",
                wrap(partial(self.partner_step_view, step="reactivate")),
                name="accounts_partner_reactivate",
            ),
            path(
                "<path:object_id>/invite/",
                wrap(partial(self.partner_step_view, step="invite")),
                name="accounts_partner_invite",
            ),
            *super().get_urls(),
        ]

    def partner_step_view(self, request, object_id, step):
        partner = self.get_object(request, object_id)
        if partner is None:
            raise Http404
        if not self.has_change_permission(request, partner):
            raise PermissionDenied
        change_url = reverse("admin:accounts_partner_change", args=[partner.pk])
        queryset = Partner.objects.filter(pk=partner.pk)
        if step == "suspend":
            return self.suspend(request, queryset, single=partner) or HttpResponseRedirect(
                change_url
            )
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if step == "reactivate":
            self.reactivate(request, queryset)
        else:
            self.resend_invitation(request, queryset)
        return HttpResponseRedirect(change_url)
