from django.contrib import admin

from core.admin import UnscopedAdmin
from surveys.models import PersonalLink, Question, Response, Survey, SurveyVersion


@admin.register(Survey)
class SurveyAdmin(UnscopedAdmin):
    list_display = ["name", "organization", "status", "public_id", "created_at"]
    list_filter = ["status"]
    search_fields = ["public_id", "name", "link_slug"]
    readonly_fields = ["public_id", "link_slug", "current_version"]
    raw_id_fields = ["organization", "touchpoint"]


@admin.register(SurveyVersion)
class SurveyVersionAdmin(UnscopedAdmin):
    """Read only: published versions are immutable and drafts are edited through services."""

    list_display = ["survey", "number", "status", "published_at"]
    readonly_fields = ["public_id", "survey", "number", "status", "published_at", "languages"]
    raw_id_fields = ["organization"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Question)
class QuestionAdmin(UnscopedAdmin):
    list_display = ["key", "type", "version", "position"]
    search_fields = ["public_id", "key"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Response)
class ResponseAdmin(UnscopedAdmin):
    list_display = ["public_id", "organization", "survey", "channel", "submitted_at"]
    list_filter = ["channel"]
    search_fields = ["public_id"]
    raw_id_fields = ["organization", "survey", "version", "touchpoint", "personal_link"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PersonalLink)
class PersonalLinkAdmin(UnscopedAdmin):
    list_display = ["public_id", "organization", "survey", "language", "expires_at", "opened_at"]
    search_fields = ["public_id", "token"]
    raw_id_fields = ["organization", "survey", "touchpoint"]
    readonly_fields = ["public_id", "token"]
