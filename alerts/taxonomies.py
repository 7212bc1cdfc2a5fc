"""Starter root-cause taxonomies an organization can load and then edit as its own.

Each entry is (category, cause, controllable): `controllable` says whether the organization could
have prevented the cause itself; closed-loop reports separate the two, because only the
controllable share is a target for improvement. Plain data, translated when shown.
"""

from typing import NamedTuple

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class StarterCause(NamedTuple):
    category: Promise
    cause: Promise
    controllable: bool


STARTER_TAXONOMIES: dict[str, list[StarterCause]] = {
    "retail": [
        StarterCause(_("Staff"), _("Unfriendly or inattentive staff"), True),
        StarterCause(_("Staff"), _("Staff lacked product knowledge"), True),
        StarterCause(_("Staff"), _("Too few staff on duty: long checkout queue"), True),
        StarterCause(_("Product"), _("Product out of stock"), True),
        StarterCause(_("Product"), _("Product faulty or damaged"), True),
        StarterCause(_("Price and payment"), _("Shelf price differed from the till"), True),
        StarterCause(_("Price and payment"), _("Checkout or payment terminal outage"), True),
        StarterCause(_("Price and payment"), _("Competitor offered a lower price"), False),
        StarterCause(_("Store"), _("Store untidy or hard to find things in"), True),
        StarterCause(_("Online and delivery"), _("Online order late or incomplete"), True),
        StarterCause(_("Online and delivery"), _("Delivery delayed by weather or traffic"), False),
        StarterCause(_("Returns and after-sales"), _("Return or refund slow or refused"), True),
        StarterCause(_("Customer"), _("Expectation outside our policy or offer"), False),
        StarterCause(_("Customer"), _("Customer ordered the wrong item or size"), False),
    ],
    "banking": [
        StarterCause(_("Service"), _("Long wait in the branch or on the phone"), True),
        StarterCause(_("Service"), _("Advisor gave wrong or inconsistent information"), True),
        StarterCause(_("Service"), _("Unfriendly or unhelpful advisor"), True),
        StarterCause(_("Service"), _("Complaint handled slowly"), True),
        StarterCause(_("Digital channels"), _("Online or mobile bank outage"), True),
        StarterCause(_("Digital channels"), _("Online or mobile bank hard to use"), True),
        StarterCause(_("Digital channels"), _("Problems signing in (strong authentication)"), True),
        StarterCause(_("Payments and cards"), _("Payment or transfer delayed"), True),
        StarterCause(_("Payments and cards"), _("Card blocked or declined unexpectedly"), True),
        StarterCause(_("Fees and rates"), _("Unexpected or unclear fees"), True),
        StarterCause(_("Fees and rates"), _("Market interest rate change"), False),
        StarterCause(_("Loans"), _("Loan decision took too long"), True),
        StarterCause(_("Regulation"), _("Identity and anti-money-laundering checks"), False),
        StarterCause(_("Fraud"), _("Customer targeted by fraud or a scam"), False),
    ],
    "telecom": [
        StarterCause(_("Network"), _("Poor mobile coverage at the customer's location"), True),
        StarterCause(_("Network"), _("Network outage"), True),
        StarterCause(_("Network"), _("Broadband slower than promised"), True),
        StarterCause(_("Network"), _("Cable cut or power failure by a third party"), False),
        StarterCause(_("Network"), _("Storm or other weather damage"), False),
        StarterCause(_("Billing"), _("Incorrect bill"), True),
        StarterCause(_("Billing"), _("Unexpected charges (roaming, premium services)"), True),
        StarterCause(_("Customer service"), _("Long queue in customer service"), True),
        StarterCause(_("Customer service"), _("Issue not resolved on first contact"), True),
        StarterCause(_("Installation"), _("Technician missed the appointment"), True),
        StarterCause(_("Installation"), _("Installation or activation delayed"), True),
        StarterCause(_("Sales and contract"), _("Contract terms unclear or mis-sold"), True),
        StarterCause(
            _("Sales and contract"), _("Number transfer delayed by another operator"), False
        ),
        StarterCause(_("Devices"), _("Manufacturer fault in the device"), False),
        StarterCause(_("Customer"), _("Customer's own equipment or home wiring"), False),
    ],
}
