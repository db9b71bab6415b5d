"""The floor of this stack: a bare Flask + ldap3 one-form change, for bench/http.py.

One GET (a static form) and one POST: search the account as the service, bind as the user on
a connection kept per thread, RFC 3062 change with the ppolicy control. No CSRF, session,
policy, audit, limits or notice: what is left is what Flask, the server and ldap3 cost, so
sspr's own cost is whatever it adds above this.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from flask import Flask, request
from ldap3 import NONE, SUBTREE, Connection, Server
from ldap3.utils.conv import escape_filter_chars

PPOLICY = ("1.3.6.1.4.1.42.2.27.8.5.1", False, None)
FORM = "<form method=post><input name=identifier><input name=current><input name=password></form>"

app = Flask(__name__)
_local = threading.local()
_server = Server(os.environ["FLOOR_LDAP_URL"], get_info=NONE)


def _connections() -> tuple[Connection, Connection]:
    """This thread's service connection and its connection for user binds."""
    if not hasattr(_local, "service"):
        _local.service = Connection(
            _server, os.environ["FLOOR_BIND_DN"], os.environ["FLOOR_BIND_PASSWORD"],
            auto_bind=True,
        )  # fmt: skip
        _local.user = Connection(_server)
        _local.user.open()
    return _local.service, _local.user


@app.get("/change")
def form() -> str:
    """The form."""
    return FORM


@app.post("/change")
def change() -> Any:
    """Search, bind as the user, change."""
    service, user = _connections()
    login = escape_filter_chars(request.form["identifier"])
    service.search(os.environ["FLOOR_BASE"], f"(uid={login})", SUBTREE, attributes=["1.1"])
    if len(service.response) != 1:
        return "unknown", 400
    dn = service.response[0]["dn"]
    old, new = request.form["current"].encode(), request.form["password"].encode()
    if not user.rebind(dn, old):
        return "wrong password", 400
    user.extend.standard.modify_password(dn, old, new, controls=[PPOLICY])
    return ("changed", 200) if user.result["result"] == 0 else ("refused", 400)
