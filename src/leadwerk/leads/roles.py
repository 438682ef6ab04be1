"""Who may see and work leads (see accounts.roles for the role list)."""

from leadwerk.accounts.roles import Role

# See every lead of the tenant.
LEAD_READERS_ALL = frozenset({Role.ADMIN, Role.MANAGER, Role.MARKETING})
# See the leads they own (and, for sales, their team's).
LEAD_READERS_OWN = frozenset({Role.SALES, Role.AGENT})
LEAD_READERS = LEAD_READERS_ALL | LEAD_READERS_OWN
# Capture new leads (manual entry, API, import). Marketing captures through imports and campaigns.
LEAD_CAPTURERS = frozenset({Role.ADMIN, Role.MANAGER, Role.MARKETING, Role.SALES, Role.AGENT})
# Work a visible lead: change status, log activities, schedule follow-ups. Marketing only reads.
LEAD_WORKERS = frozenset({Role.ADMIN, Role.MANAGER, Role.SALES, Role.AGENT})
# Assign and re-assign to anyone; edit reason lists and interests.
LEAD_ADMINS = frozenset({Role.ADMIN, Role.MANAGER})
