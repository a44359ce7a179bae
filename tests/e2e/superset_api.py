"""A minimal Superset REST client for the e2e tests (stdlib only): JWT login, GET and POST returning status and JSON."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.request
from typing import Any


class SupersetAPI:
    """Requests against one Superset, as the user whose token it holds (or anonymously without one)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        # POSTs need a CSRF token, and the token belongs to the session cookie it came with.
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self._csrf: str | None = None

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> SupersetAPI:
        """Log in through /api/v1/security/login (database auth) and keep the access token."""
        body = json.dumps({"username": username, "password": password, "provider": "db", "refresh": False})
        req = urllib.request.Request(
            f"{base_url.rstrip('/')}/api/v1/security/login",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            return cls(base_url, json.load(resp)["access_token"])

    def get(self, path: str) -> tuple[int, Any]:
        """GET base_url+path; return (status, parsed JSON or None). HTTP errors are returned, not raised."""
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self._send(urllib.request.Request(f"{self.base_url}{path}", headers=headers))

    def post(self, path: str, payload: Any) -> tuple[int, Any]:
        """POST JSON to base_url+path (with a CSRF token if the user may have one); return (status, JSON or None)."""
        if self._csrf is None and self.token:
            # Not every role may ask for one; /api/v1/chart/data is exempt from CSRF anyway.
            status, data = self.get("/api/v1/security/csrf_token/")
            self._csrf = data["result"] if status == 200 else ""
        headers = {"Accept": "application/json", "Content-Type": "application/json", "Referer": self.base_url}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self._csrf:
            headers["X-CSRFToken"] = self._csrf
        body = json.dumps(payload).encode()
        return self._send(urllib.request.Request(f"{self.base_url}{path}", data=body, headers=headers, method="POST"))

    def _send(self, req: urllib.request.Request) -> tuple[int, Any]:
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return resp.status, _json(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, _json(err.read())

    def get_ok(self, path: str) -> Any:
        """GET that must answer 200; returns the JSON."""
        status, data = self.get(path)
        assert status == 200, f"GET {path} answered {status}: {str(data)[:2000]}"
        return data


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
