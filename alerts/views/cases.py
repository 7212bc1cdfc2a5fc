"""The case inbox with its bulk assign, the case page and its actions, and the open-cases
fragments the touchpoint and contact pages load."""

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alerts import page_selectors, selectors
from alerts.enums import CASE_FORWARD_MOVES, CaseStatus
from alerts.explain import event_in_words, evidence_in_words
from alerts.forms import (
    TABS,
    AssignForm,
    BulkAssignForm,
    CaseFilterForm,
    ContactRecordForm,
    ImprovementLinkForm,
    NoteForm,
    ResolveForm,
    StatusForm,
    add_service_error,
)
from alerts.selectors import CaseFilters
from alerts.services import cases as case_services
from alerts.views._base import PAGE_SIZE, AlertsView, local_time
from core.exceptions import ApplicationError
from distribution.selectors import access_contact
from journeys.selectors import access_touchpoint
from tenancy import policies


def _inbox_filters(form: CaseFilterForm, tab: str, user) -> CaseFilters:
    form.is_valid()  # the valid filters apply; an invalid one shows its error and is ignored
    data = form.cleaned_data
    status = data.get("status") or "open"
    touchpoint = data.get("touchpoint")
    return CaseFilters(
        assignee_id=user.pk if tab == "mine" else None,
        unassigned=tab == "unassigned",
        open_only=status == "open",
        statuses=(status,) if status in CaseStatus.values else (),
        touchpoint_id=touchpoint.pk if touchpoint is not None else None,
        priority=data.get("priority") or "",
        overdue=bool(data.get("overdue")),
        query=(data.get("q") or "").strip(),
    )


def inbox_context(view: AlertsView, params: QueryDict, bulk_form=None) -> dict:
    """Everything the inbox shows for the filters in `params`: a page of 50 cases costs the
    same few queries whatever the number of cases."""
    organization = view.organization
    form = CaseFilterForm(
        params, touchpoints=page_selectors.touchpoint_choices(organization=organization)
    )
    tab = params.get("tab") if params.get("tab") in TABS else "mine"
    filters = _inbox_filters(form, tab, view.actor.user)
    cases = selectors.case_list(organization=organization, filters=filters)
    page = Paginator(cases, PAGE_SIZE).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    tabs = []
    for key, label in TABS.items():
        tab_query = query.copy()
        tab_query["tab"] = key
        tabs.append({"key": key, "label": label, "query": tab_query.urlencode()})
    inbox_url = reverse("alerts:cases", args=[organization.slug])
    current = query.urlencode()
    if view.can_handle and bulk_form is None:
        bulk_form = BulkAssignForm(members=view.members())
    return {
        "form": form,
        "tab": tab,
        "tab_label": TABS[tab],
        "tabs": tabs,
        "page": page,
        "query": current,
        "next": f"{inbox_url}?{current}" if current else inbox_url,
        "bulk_form": bulk_form if view.can_handle else None,
        "can_handle": view.can_handle,
        "now": timezone.now(),
    }


class CaseInboxView(AlertsView):
    """Cases: mine, the team's or unassigned ones, filtered; 50 to a page; bulk assign."""

    template_name = "alerts/case_inbox.html"

    def get(self, request, **kwargs):
        with local_time(self.organization):
            return render(request, self.template_name, inbox_context(self, request.GET))


class CaseBulkAssignView(AlertsView):
    def post(self, request, **kwargs):
        form = BulkAssignForm(request.POST, members=self.members())
        if form.is_valid():
            cases = page_selectors.cases_by_public_ids(
                organization=self.organization, public_ids=form.cleaned_data["cases"]
            )
            assignee = form.cleaned_data["assignee"]
            if not cases:
                form.add_error(None, _("None of the chosen cases was found."))
            else:
                try:
                    count = case_services.cases_bulk_assign(
                        actor=self.actor,
                        organization=self.organization,
                        cases=cases,
                        assignee=assignee,
                    )
                except ApplicationError as error:
                    add_service_error(form, error)
                else:
                    who = assignee.get_full_name() if assignee else _("nobody")
                    messages.success(
                        request,
                        ngettext(
                            "%(count)s case assigned to %(who)s.",
                            "%(count)s cases assigned to %(who)s.",
                            count,
                        )
                        % {"count": count, "who": who},
                    )
                    return self.redirect_back(request, "alerts:cases")
        params = QueryDict(urlsplit(request.POST.get("next", "")).query)
        with local_time(self.organization):
            context = inbox_context(self, params, bulk_form=form)
            return render(request, "alerts/case_inbox.html", context, status=400)


# --- the case page ----------------------------------------------------------------------------


def _timeline_rows(events) -> list[dict]:
    return [
        {
            "event": event,
            "detail": event_in_words(event.kind, event.data),
            "contacted_at": parse_datetime(event.data.get("contacted_at") or "")
            if isinstance(event.data, dict)
            else None,
            "who": (event.actor.get_full_name() if event.actor else "") or event.actor_label,
        }
        for event in events
    ]


class _CaseView(AlertsView):
    template_name = "alerts/case_detail.html"

    def case(self, public_id: str):
        return selectors.access_case(organization=self.organization, public_id=public_id)

    def render_case(self, request, case, *, bound: dict | None = None, status: int = 200):
        context = self.case_context(case, bound or {})
        return render(request, self.template_name, context, status=status)

    def case_context(self, case, bound: dict) -> dict:
        organization = self.organization
        alert = case.alert
        contact = None
        if case.contact_id is not None and self.actor.can(policies.CONTACTS.read):
            contact = page_selectors.contact_summary(
                organization=organization, contact=case.contact
            )
        response_row = page_selectors.response_in_words(
            organization=organization, response_id=case.response_id
        )
        questions = response_row["questions"] if response_row else None
        context = {
            "case": case,
            "alert": alert,
            "evidence": (
                evidence_in_words(alert.kind, alert.evidence, alert.rule, questions)
                if alert
                else []
            ),
            "response_row": response_row,
            "contact_summary": contact,
            "timeline": _timeline_rows(selectors.case_timeline(case=case)),
            "notifications": list(selectors.case_notifications(case=case)),
            "can_handle": self.can_handle,
            "now": timezone.now(),
        }
        if self.can_handle:
            context.update(self.action_forms(case, bound))
        return context

    def action_forms(self, case, bound: dict) -> dict:
        organization = self.organization
        members = self.members()
        forms = {
            "assign_form": bound.get("assign")
            or AssignForm(
                initial={"assignee": case.assignee.public_id if case.assignee_id else None},
                members=members,
            ),
            "note_form": bound.get("note") or NoteForm(),
            "contact_form": bound.get("contact")
            or ContactRecordForm(
                initial={"contacted_at": timezone.localtime().replace(second=0, microsecond=0)}
            ),
            "improvement_form": bound.get("improvement")
            or ImprovementLinkForm(
                initial={
                    "improvement": case.improvement.public_id if case.improvement_id else None
                },
                items=selectors.improvement_list(organization=organization),
            ),
        }
        status_form = bound.get("status") or StatusForm(current=case.status)
        forms["status_form"] = status_form if status_form.has_moves else None
        if "resolve" in bound or CaseStatus.RESOLVED in CASE_FORWARD_MOVES[case.status]:
            forms["resolve_form"] = bound.get("resolve") or ResolveForm(
                cause_groups=page_selectors.root_cause_groups(organization=organization)
            )
        return forms


class CaseDetailView(_CaseView):
    """The alert and its evidence, the response in words, the contact's summary, the timeline
    and notifications; the actions for those who handle cases."""

    def get(self, request, public_id: str, **kwargs):
        with local_time(self.organization):
            return self.render_case(request, self.case(public_id))


class _CaseActionView(_CaseView):
    """One action of the case page: validate its form, call one service, back to the page.
    A refusal shows on the form, with the rest of the page, as 400."""

    key = ""
    success = ""

    def make_form(self, case, data):
        raise NotImplementedError

    def act(self, case, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, public_id: str, **kwargs):
        with local_time(self.organization):
            case = self.case(public_id)
            form = self.make_form(case, request.POST)
            if form.is_valid():
                try:
                    self.act(case, form.cleaned_data)
                except ApplicationError as error:
                    add_service_error(form, error)
                else:
                    messages.success(request, self.success_message())
                    return redirect("alerts:case", self.organization.slug, public_id)
            return self.render_case(request, case, bound={self.key: form}, status=400)

    def success_message(self) -> str:
        return str(self.success)


class CaseAssignView(_CaseActionView):
    key = "assign"

    def make_form(self, case, data):
        return AssignForm(data, members=self.members())

    def act(self, case, data):
        case_services.case_assign(actor=self.actor, case=case, assignee=data["assignee"])

    def success_message(self):
        return _("Assignee saved.")


class CaseStatusView(_CaseActionView):
    key = "status"

    def make_form(self, case, data):
        return StatusForm(data, current=case.status)

    def act(self, case, data):
        case_services.case_change_status(
            actor=self.actor, case=case, status=data["status"], note=data["note"]
        )

    def success_message(self):
        return _("Status changed.")


class CaseResolveView(_CaseActionView):
    key = "resolve"

    def make_form(self, case, data):
        groups = page_selectors.root_cause_groups(organization=self.organization)
        return ResolveForm(data, cause_groups=groups)

    def act(self, case, data):
        case_services.case_change_status(
            actor=self.actor,
            case=case,
            status=CaseStatus.RESOLVED,
            root_cause=data["root_cause"],
            controllable=data["controllable"],
            action_taken=data["action_taken"],
        )

    def success_message(self):
        return _("Case resolved.")


class CaseNoteView(_CaseActionView):
    key = "note"

    def make_form(self, case, data):
        return NoteForm(data)

    def act(self, case, data):
        case_services.case_add_note(actor=self.actor, case=case, text=data["text"])

    def success_message(self):
        return _("Note added.")


class CaseContactView(_CaseActionView):
    key = "contact"

    def make_form(self, case, data):
        return ContactRecordForm(data)

    def act(self, case, data):
        case_services.case_record_contact(
            actor=self.actor,
            case=case,
            method=data["method"],
            outcome=data["outcome"],
            contacted_at=data["contacted_at"],
            note=data["note"],
        )

    def success_message(self):
        return _("Customer contact recorded.")


class CaseImprovementView(_CaseActionView):
    key = "improvement"

    def make_form(self, case, data):
        items = selectors.improvement_list(organization=self.organization)
        return ImprovementLinkForm(data, items=items)

    def act(self, case, data):
        case_services.case_link_improvement(
            actor=self.actor, case=case, improvement=data["improvement"]
        )

    def success_message(self):
        return _("Improvement link saved.")


# --- fragments of the touchpoint and contact pages --------------------------------------------


class _OpenCasesView(AlertsView):
    """Open cases of one touchpoint or contact: a fragment for HTMX, a page without it."""

    def show(self, request, *, subject: str, cases, all_url: str = ""):
        context = {
            "cases": list(cases),
            "subject": subject,
            "all_url": all_url,
            "now": timezone.now(),
        }
        template = (
            "alerts/partials/open_cases.html" if request.htmx else "alerts/open_cases_page.html"
        )
        with local_time(self.organization):
            return render(request, template, context)


class TouchpointCasesView(_OpenCasesView):
    def get(self, request, public_id: str, **kwargs):
        touchpoint = access_touchpoint(organization=self.organization, public_id=public_id)
        cases = selectors.open_cases_for_touchpoint(
            organization=self.organization, touchpoint=touchpoint, limit=10
        )
        query = urlencode({"tab": "team", "touchpoint": touchpoint.public_id})
        all_url = f"{reverse('alerts:cases', args=[self.organization.slug])}?{query}"
        return self.show(request, subject=touchpoint.name, cases=cases, all_url=all_url)


class ContactCasesView(_OpenCasesView):
    def get(self, request, public_id: str, **kwargs):
        contact = access_contact(organization=self.organization, public_id=public_id)
        cases = page_selectors.open_cases_for_contact(
            organization=self.organization, contact=contact
        )
        return self.show(request, subject=contact.display_name, cases=cases)
