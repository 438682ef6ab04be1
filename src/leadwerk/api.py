"""The one NinjaAPI: authentication, the error shape, and a router per app.

Errors always look like ``{"detail": "...", "errors": [{"field": "...", "message": "...", "code": "..."}]}``.
"""

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from leadwerk.accounts.api import router as accounts_router
from leadwerk.accounts.auth import authenticate_session, authenticate_token
from leadwerk.contacts.api import router as contacts_router
from leadwerk.contacts.dedup_api import router as dedup_router
from leadwerk.contacts.segment_api import router as segments_router
from leadwerk.core.exceptions import DomainError
from leadwerk.imports.api import router as imports_router
from leadwerk.leads.api import router as leads_router
from leadwerk.leads.bulk_api import router as lead_bulk_router
from leadwerk.leads.model_api import router as score_models_router
from leadwerk.leads.notification_api import router as notifications_router
from leadwerk.leads.question_api import router as questions_router
from leadwerk.leads.routing_api import router as routing_router
from leadwerk.leads.scoring_api import router as scoring_router
from leadwerk.leads.sla_api import router as sla_router


class TokenAuth(HttpBearer):
    """``Authorization: Bearer lw_…``: a personal API token, bound to one membership and so to one tenant."""

    openapi_description = "Personal API token, created under “API tokens” in the web app."

    def authenticate(self, request: HttpRequest, token: str):
        return authenticate_token(request, token)


class TenantSessionAuth(SessionAuth):
    """Same-origin calls from the web app: the session cookie plus CSRF, the tenant named in ``X-Tenant``."""

    openapi_description = "Session cookie of the web app; send the tenant's slug in the X-Tenant header."

    def authenticate(self, request: HttpRequest, key: str | None):
        user = super().authenticate(request, key)
        if not user:
            return None
        return authenticate_session(request, user)


api = NinjaAPI(
    title="Leadwerk API",
    version="1",
    description=(
        "Lead management API. Authenticate with a personal token (`Authorization: Bearer …`) or, "
        "from the web app, with the session cookie and an `X-Tenant` header. Lists are paginated "
        "with `limit` and `offset` (accounts) or a `cursor` (people, organisations); "
        "errors carry a `detail` and a list of field `errors`."
    ),
    auth=[TokenAuth(), TenantSessionAuth()],
    urls_namespace="api",
)


def _error(request, status: int, detail: str, errors: list[dict] | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    errors = [{"field": exc.field, "message": exc.message, "code": exc.code}] if exc.field else []
    return _error(request, exc.status_code, exc.message, errors)


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    errors = []
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path", "payload")]
        errors.append(
            {"field": ".".join(loc) or None, "message": err.get("msg", ""), "code": err.get("type", "invalid")}
        )
    return _error(request, 422, _("The input is not valid."), errors)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, _("Not found."))


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    return _error(request, 401, _("Authentication required: a valid API token or session."))


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc))


api.add_router("/", accounts_router)
api.add_router("/", contacts_router)
api.add_router("/", dedup_router)
api.add_router("/", imports_router)
api.add_router("/", segments_router)
api.add_router("/", lead_bulk_router)  # before leads: /leads/bulk is not a /leads/{lead_id}
api.add_router("/", leads_router)
api.add_router("/", sla_router)
api.add_router("/", questions_router)
api.add_router("/", routing_router)
api.add_router("/", scoring_router)
api.add_router("/", score_models_router)
api.add_router("/", notifications_router)
