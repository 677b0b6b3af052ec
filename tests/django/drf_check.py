"""A Django REST framework service that shares Latchkey's signing key and authenticates with
simplejwt's JWTStatelessUserAuthentication, as a Django service running beside Latchkey would.

Usage: drf_check.py SIGNING_KEY ACCESS_TOKEN REFRESH_TOKEN
Calls one protected view with each token through Django's test client and prints the statuses and
bodies as JSON. Run by server/tests/django_import.rs with the Python of scripts/django.sh.
"""
import json
import sys

import django
from django.conf import settings
from django.urls import path

signing_key, access, refresh = sys.argv[1:4]
settings.configure(
    SECRET_KEY="django-side-secret",
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "rest_framework"],
    DATABASES={},
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "UNAUTHENTICATED_USER": None,
    },
    SIMPLE_JWT={"SIGNING_KEY": signing_key, "ALGORITHM": "HS256"},
)
django.setup()

from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class Me(APIView):
    def get(self, request):
        return Response({"user_id": request.user.id, "email": request.auth.get("email"),
                         "token_type": request.auth["token_type"]})


urlpatterns = [path("me/", Me.as_view())]

from django.test import Client  # noqa: E402

results = {}
for name, token in [("access", access), ("refresh", refresh), ("garbage", access[:-2] + "xx")]:
    response = Client().get("/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    results[name] = {"status": response.status_code, "body": response.json()}
print(json.dumps(results))
