from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Partner, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "full_name", "partner__store_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "role")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "role", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["store_name", "city", "user", "commission_rate", "suspended_at"]
    list_filter = [("suspended_at", admin.EmptyFieldListFilter), "city"]
    search_fields = ["store_name", "city", "user__email", "contact_name"]
    list_select_related = ["user"]
    readonly_fields = ["suspended_at", "suspended_by", "suspension_reason", "created_at"]
