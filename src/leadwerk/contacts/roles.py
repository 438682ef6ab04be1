"""Who may read and change the marketing database (see accounts.roles for the role list)."""

from leadwerk.accounts.roles import Role

# Agents, sales and partners see people only through their leads (and later call lists), not the database.
CONTACT_READERS = frozenset({Role.ADMIN, Role.MANAGER, Role.MARKETING, Role.PRIVACY})
CONTACT_WRITERS = frozenset({Role.ADMIN, Role.MARKETING})
# Handling suppressions and recording consent on behalf of people (tenant-defined attributes: MEMBER_ADMINS).
CONTACT_ADMINS = frozenset({Role.ADMIN, Role.MARKETING, Role.PRIVACY})
# Exports carry personal data out of the system: only the roles that work with it in bulk.
CONTACT_EXPORTERS = frozenset({Role.ADMIN, Role.MANAGER, Role.MARKETING})
