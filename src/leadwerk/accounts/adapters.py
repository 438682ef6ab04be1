from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """People join a tenant by invitation only; there is no open sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False
