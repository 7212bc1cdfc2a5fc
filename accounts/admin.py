from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiKey, MemberInvitation, User
from core.admin import UnscopedAdmin


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name", "language"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal: list[str] = []
    list_filter = ["is_staff", "is_active"]


@admin.register(ApiKey)
class ApiKeyAdmin(UnscopedAdmin):
    list_display = [
        "name",
        "prefix",
        "organization",
        "scope",
        "rate_limit_per_minute",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "secret_hash"]


@admin.register(MemberInvitation)
class MemberInvitationAdmin(UnscopedAdmin):
    list_display = ["email", "organization", "role", "expires_at", "accepted_at"]
    readonly_fields = ["token_hash"]
