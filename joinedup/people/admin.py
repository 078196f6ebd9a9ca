from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from joinedup.audit.admin import AuditedReadsMixin
from joinedup.people.models import Department, Membership, Organisation, Service, Student, User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0


@admin.register(User)
class UserAdmin(AuditedReadsMixin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        ("Status", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "password1", "password2"]})]
    inlines = [MembershipInline]

    def students_of(self, objects) -> list:
        """A student's account is their personal data too."""
        return list(Student.objects.filter(user__in=[user.pk for user in objects]))


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "ods_code"]
    list_filter = ["kind"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "kind", "waiting_standard_days"]
    list_filter = ["kind"]


admin.site.register(Department)


@admin.register(Student)
class StudentAdmin(AuditedReadsMixin, admin.ModelAdmin):
    """Identity and registration only; clinical content is never shown in the admin."""

    audited_categories = ("identity", "registration")
    list_display = ["student_number", "university", "status"]
    search_fields = ["student_number"]
    exclude = ["trusted_contact_name", "trusted_contact_phone", "trusted_contact_relationship"]

    def students_of(self, objects) -> list:
        return list(objects)
