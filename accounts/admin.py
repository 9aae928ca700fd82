"""The back office for accounts: partners are created, invited, suspended and reactivated
through accounts.services; the admin never types a partner's password."""

from functools import partial

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.forms_admin import AdminUserCreationForm, PartnerCreationForm, ReasonForm
from accounts.models import Partner, User
from accounts.services import partner_invite, partner_onboard, partner_reactivate, partner_suspend
from toplivres.admin_tools import (
    ServiceActionsMixin,
    TamperProofActionsMixin,
    empty_or_set_filter,
)


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


StatusFilter = empty_or_set_filter(
    field="suspended_at",
    title=gettext_lazy("status"),
    parameter="status",
    empty=("active", gettext_lazy("Active")),
    filled=("suspended", gettext_lazy("Suspended")),
)


class ReportFilter(admin.SimpleListFilter):
    title = gettext_lazy("sales report")
    parameter_name = "report"

    def lookups(self, request, model_admin):
        return [("awaiting", _("Delivery awaiting a report"))]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            from operations.analytics import partners_awaiting_report

            return queryset.filter(pk__in=partners_awaiting_report().values("pk"))
        return queryset


@admin.register(Partner)
class PartnerAdmin(ServiceActionsMixin, TamperProofActionsMixin, admin.ModelAdmin):
    list_display = ["store_name", "city", "email", "commission_rate", "is_active", "created_at"]
    list_filter = [StatusFilter, ReportFilter, "city"]
    search_fields = ["store_name", "city", "user__email", "contact_name"]
    list_select_related = ["user"]
    actions = ["resend_invitation", "suspend", "reactivate"]
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
                ]
            },
        ),
        (
            gettext_lazy("Suspension"),
            {"fields": ["suspended_at", "suspended_by", "suspension_reason"]},
        ),
    ]
    readonly_fields = [
        "user_email",
        "created_at",
        "suspended_at",
        "suspended_by",
        "suspension_reason",
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

    def has_delete_permission(self, request, obj=None):
        return False  # history stays: suspend instead

    # -- adding: store details and e-mail, through partner_onboard --------------------------

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = None
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            # Only the fields edited here: a suspension made meanwhile is never overwritten.
            fields = [name for name in form.changed_data if name in form.fields]
            if fields:
                obj.save(update_fields=[*fields, "updated_at"])
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
            lambda partner: partner_invite(partner=partner),
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from operations.billing.selectors import figures_with_billed_money
        from operations.selectors import (
            open_order_for_partner,
            partner_figures,
            stock_for_partner,
        )

        partner = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if partner is not None:
            extra_context.update(
                stock=list(stock_for_partner(partner=partner)),
                open_order=open_order_for_partner(partner=partner),
                figures=figures_with_billed_money(
                    partner_figures(partner=partner), partner=partner
                ),
                partner=partner,
            )
        return super().change_view(request, object_id, form_url, extra_context)
