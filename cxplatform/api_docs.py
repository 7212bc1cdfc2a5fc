"""The resources of the API documentation (SPECTACULAR_SETTINGS["TAGS"]), in the order a reader
meets them: an operation's tag comes from its view (`@extend_schema(tags=[...])`, see
`core.schema.ResourceAutoSchema`), and tests/core/test_openapi_tags.py checks every tag in use is
described here."""

TAGS = [
    {"name": "Organization", "description": "The organization the URL names."},
    {"name": "Members", "description": "Members and their roles (read-only)."},
    {"name": "Activity", "description": "The audit log (sessions of admins only; no key)."},
    {"name": "Journeys", "description": "Customer journeys: ordered stages of touchpoints."},
    {"name": "Stages", "description": "A journey's stages, in order."},
    {
        "name": "Touchpoints",
        "description": "Where customers meet the company; `external_ref` attributes feedback "
        "from integrations.",
    },
    {
        "name": "Measurement plans",
        "description": "The metrics a touchpoint is measured on, with baseline and target.",
    },
    {"name": "Surveys", "description": "Surveys: publish, close, reopen, export and import."},
    {"name": "Survey versions", "description": "Published versions, immutable once answered."},
    {"name": "Survey questions", "description": "The questions of a survey's draft."},
    {
        "name": "Responses",
        "description": "Responses with their answers; submit one or up to 1,000 in bulk.",
    },
    {"name": "Response imports", "description": "CSV files of historical responses."},
    {"name": "Exports", "description": "Response exports (CSV, XLSX, JSON Lines) as jobs."},
    {"name": "Digests", "description": "A dashboard's headline numbers emailed to members."},
    {
        "name": "Share links",
        "description": "Read-only links that open one dashboard without signing in.",
    },
    {"name": "Contacts", "description": "Contacts with consent and opt-out per channel."},
    {"name": "Segments", "description": "Rule-based groups of contacts."},
    {
        "name": "Invitations",
        "description": "Survey invitations: triggered after an event, or sent by campaigns.",
    },
    {"name": "Campaigns", "description": "A survey sent to a segment or list of contacts."},
    {"name": "Email templates", "description": "Invitation email texts per survey and language."},
    {"name": "Distribution settings", "description": "Contact-frequency rules and SMS sender."},
    {
        "name": "Kiosk devices",
        "description": "Tablets that ask a smiley survey at a touchpoint; the address is shown once.",
    },
    {"name": "Metrics", "description": "Scores per day, week or month, from the rollups."},
    {"name": "KPIs", "description": "Every measurement plan judged against its target."},
    {"name": "Alert rules", "description": "Rules that raise alerts on responses or trends."},
    {"name": "Alerts", "description": "Alerts raised by rules, with their evidence."},
    {"name": "Cases", "description": "Follow-up cases: the closed loop with customers."},
    {"name": "Root causes", "description": "The taxonomy resolved cases are filed under."},
    {"name": "Improvements", "description": "Improvement items that gather cases."},
    {"name": "Case settings", "description": "Due times, working hours and default assignee."},
    {"name": "Webhooks", "description": "Endpoints that receive signed events, and deliveries."},
    {"name": "Events", "description": "The last 30 days of events, for clients without webhooks."},
]
