from leadwerk.accounts.exceptions import NotAllowed

__all__ = ["NotAllowed"]
