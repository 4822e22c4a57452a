#!/usr/bin/env python3
"""An ARZ client written the way operators write them, with requests: the v1 calls of the generated
SDK, then a hand-written v2 poller. Prints a canonical transcript of every answer on stdout and the
Server-Timing header of each call on stderr.

Usage: arz_client.py BASE_URL LOGIN PASSWORD, or ARZ_BASE_URL, ARZ_LOGIN, ARZ_PASSWORD in the
environment (better: the password stays out of the process list)."""
import json
import os
import re
import sys

import requests

# "now" in the legacy's UtcNow form (docs/legacy-contract.md §1): the only values that differ between two runs.
NOW = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$")
VOLATILE = {"responseTimestamp", "deliveryTimestamp", "lastUpdated"}


def blank_now(value):
    if isinstance(value, dict):
        return {k: "<now>" if k in VOLATILE and isinstance(v, str) and NOW.match(v) else blank_now(v) for k, v in value.items()}
    if isinstance(value, list):
        return [blank_now(v) for v in value]
    return value


def canonical(value):
    """Sorted keys, no spaces, every non-ASCII character escaped: the form all three clients print."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class Transcript:
    def __init__(self, base_url, login, password):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.auth = (login, password)

    def call(self, method, path, body=None, headers=None):
        response = self.session.request(method, self.base_url + path, json=body, headers=headers)
        content_type = response.headers.get("Content-Type", "")
        try:
            shown = canonical(blank_now(response.json()))
        except ValueError:
            shown = canonical(response.text)  # empty or plain-text bodies, quoted the same way
        print(f"> {method} {path}\n< {response.status_code} {content_type}\n{shown}")
        print(f"server-timing {method} {path} {response.headers.get('Server-Timing', '-')}", file=sys.stderr)
        try:
            return response.json()
        except ValueError:
            return None


SDK_HEADERS = {"Accept": "application/json", "User-Agent": "OpenAPI-Generator/1.0.0/python"}
V1 = "/api/v1/Prescriptions"


def first(items, type_name, count):
    return [{"type": i["type"], "rezeptUuid": i["rezeptUuid"]} for i in items if i["type"] == type_name][:count]


def run(client):
    # The generated SDK: fetch each type's new prescriptions, mark some read, bill some, list pharmacies.
    fetched = []
    for rezept_type in ("eMuster16", "pRezept", "eRezept"):
        page = client.call("GET", f"{V1}/new?page=1&pageSize=100&rezeptType={rezept_type}", headers=SDK_HEADERS)
        fetched += page["prescriptions"]
    read = first(fetched, "eMuster16", 2) + first(fetched, "P-Rezept", 1)
    client.call("POST", f"{V1}/mark-as-read", {"prescriptions": read}, SDK_HEADERS)
    client.call("POST", f"{V1}/set-abgerechnet", {"prescriptions": first(fetched, "E-Rezept", 2)}, SDK_HEADERS)
    client.call("GET", "/api/Apotheken?page=1&pageSize=5", headers=SDK_HEADERS)

    # The hand-written poller: poll everything and each type, report back what it fetched, poll again.
    polled = client.call("GET", "/v2/rezept?page=1&pageSize=10")["prescriptions"]
    for rezept_type in ("eMuster16", "P-Rezept", "E-Rezept"):
        client.call("GET", f"/v2/rezept?page=1&pageSize=10&type={rezept_type}")
    updates = [
        {"rezeptUuid": polled[0]["rezeptUuid"], "type": polled[0]["type"], "transferArz": True, "status": None},
        {"rezeptUuid": polled[1]["rezeptUuid"], "type": polled[1]["type"], "transferArz": None, "status": "IN_PRUEFUNG"},
        {"rezeptUuid": polled[-1]["rezeptUuid"], "type": polled[-1]["type"], "transferArz": True, "status": "GELESEN"},
        {"rezeptUuid": "00000000-0000-0000-0000-000000000000", "type": "eMuster16", "transferArz": True, "status": None},
    ]
    client.call("PATCH", "/v2/rezept/status", {"updates": updates})
    client.call("GET", "/v2/rezept?page=1&pageSize=10")
    client.call("GET", "/v2/rezept?page=1&pageSize=10")


def main():
    args = sys.argv[1:]
    base_url, login, password = args if len(args) == 3 else (os.environ.get(k) for k in ("ARZ_BASE_URL", "ARZ_LOGIN", "ARZ_PASSWORD"))
    if not (base_url and login and password):
        sys.exit("usage: arz_client.py BASE_URL LOGIN PASSWORD (or ARZ_BASE_URL, ARZ_LOGIN, ARZ_PASSWORD)")
    run(Transcript(base_url, login, password))


if __name__ == "__main__":
    main()
