from django.contrib import admin

from core.models import ActivityLog


class UnscopedAdmin(admin.ModelAdmin):
    """Admin works across tenants on purpose: it reads through the named unscoped manager."""

    def get_queryset(self, request):
        return self.model.all_objects.get_queryset()


@admin.register(ActivityLog)
class ActivityLogAdmin(UnscopedAdmin):
    list_display = ["created_at", "organization", "actor_label", "action", "object_repr"]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "object_id"]
    readonly_fields = [f.name for f in ActivityLog._meta.fields]
