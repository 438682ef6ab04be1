"""Who may read and change the marketing database (see accounts.roles for the role list)."""

from leadwerk.accounts.roles import Role

# Until call lists and leads exist, agents, sales and partners see no contacts at all (fails closed).
CONTACT_READERS = frozenset({Role.ADMIN, Role.MANAGER, Role.MARKETING, Role.PRIVACY})
CONTACT_WRITERS = frozenset({Role.ADMIN, Role.MARKETING})
# Defining attributes and handling suppressions.
CONTACT_ADMINS = frozenset({Role.ADMIN, Role.MARKETING, Role.PRIVACY})
# Exports carry personal data out of the system: only the roles that work with it in bulk.
CONTACT_EXPORTERS = frozenset({Role.ADMIN, Role.MANAGER, Role.MARKETING})
