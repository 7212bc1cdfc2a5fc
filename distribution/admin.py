from django.contrib import admin

from core.admin import UnscopedAdmin
from distribution.models import Contact, ContactImport, Segment


@admin.register(Contact)
class ContactAdmin(UnscopedAdmin):
    list_display = ["public_id", "organization", "name", "email", "phone", "created_at"]
    search_fields = ["public_id", "external_id", "email", "phone"]
    readonly_fields = ["public_id"]


@admin.register(Segment)
class SegmentAdmin(UnscopedAdmin):
    list_display = ["name", "organization", "created_at"]


@admin.register(ContactImport)
class ContactImportAdmin(UnscopedAdmin):
    list_display = ["filename", "organization", "status", "processed_rows", "total_rows"]
    exclude = ["content"]
    readonly_fields = ["status", "processed_rows", "total_rows", "error_count", "failure"]
