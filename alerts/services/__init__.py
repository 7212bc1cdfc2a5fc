"""Every write of the alerts app: rules, alerts, cases, escalation (see each module)."""
