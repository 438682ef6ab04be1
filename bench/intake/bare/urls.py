"""Issue #4's ceiling: "a bare endpoint that validates a small JSON body and inserts one row".

``POST /bench/bare`` with ``{"note": "…"}`` (1–200 characters): 422 with the field's message if not, else one
row inserted into ``bench_bare`` (created by the bench's setup) and 201 with its id. No authentication, no
product code: the same server, settings and middleware as the product's endpoints. Bench only.
"""

import json

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from leadwerk.urls import urlpatterns as product


@csrf_exempt
@require_POST
def bare(request):
    try:
        body = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": [{"loc": ["body"], "msg": "Send JSON."}]}, status=422)
    note = body.get("note") if isinstance(body, dict) else None
    if not isinstance(note, str) or not 1 <= len(note) <= 200:
        return JsonResponse({"detail": [{"loc": ["body", "note"], "msg": "1 to 200 characters."}]}, status=422)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_bare (note, at) VALUES (%s, %s) RETURNING id", [note, timezone.now().isoformat()]
        )
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [path("bench/bare", bare), *product]
