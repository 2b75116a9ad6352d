"""A service trusting the identity platform's ``jwks_uri`` (issue 26), served over HTTP here by a
local server: it starts while the platform is unreachable and refuses calls naming why, follows a
key rotation while calls flow without refusing a legitimate one, drops a retired key, and will not
start with a set that holds a private key."""

import http.server
import json
import threading
import time

import pytest
from nameko.testing.services import entrypoint_hook

from nxshared.core.errors import NotFound, Unauthorized
from nxshared.issuer import mint_token, new_key, public_half
from nxshared.keys import KeySetError
from nxshared.metrics import registry_for

REFRESH = 0.5


class Platform:
    """The identity platform's published key set, changeable while it is served."""

    def __init__(self):
        self.keys = []
        self.served = 0
        platform = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the standard library's name
                platform.served += 1
                body = json.dumps({"keys": [public_half(k) for k in platform.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/realms/nx/protocol/openid-connect/certs"
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def platform():
    served = Platform()
    yield served
    if served.thread:
        served.stop()
    else:
        served.server.server_close()


def ask(container, token):
    """One legitimate call: NotFound (no such project) is its answer; Unauthorized is a refusal."""
    with entrypoint_hook(container, "get_approval", context_data={"authorization": f"Bearer {token}"}) as hook:
        try:
            hook(project_id="prj-none")
        except NotFound:
            return "answered"
        except Unauthorized as exc:
            return exc.code
    return "answered"


def wait_for(probe, timeout=10):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


@pytest.fixture
def approval_on(container_factory, service_config):
    from approval.service import ApprovalService

    def start(**settings):
        config = service_config("approval", **{"AUTH_JWKS_FILE": "", "AUTH_JWKS_REFRESH_SECONDS": REFRESH, **settings})
        container = container_factory(ApprovalService, config)
        container.start()
        return container

    return start


def test_an_unreachable_platform_at_start_refuses_calls_naming_it_until_it_answers(platform, approval_on):
    first = new_key()
    platform.keys = [first]
    container = approval_on(AUTH_JWKS_URL=platform.url)  # the server is not listening yet: starts anyway
    with (
        pytest.raises(Unauthorized, match="无法取得受信任的公钥"),
        entrypoint_hook(
            container, "get_approval", context_data={"authorization": "Bearer " + mint_token(first, "drc")}
        ) as hook,
    ):
        hook(project_id="prj-none")
    refusals = registry_for(container).token_refusals
    assert refusals.labels("keys_unavailable")._value.get() == 1
    platform.start()
    wait_for(lambda: ask(container, mint_token(first, "drc")) == "answered")


def test_a_key_rotation_while_calls_flow_refuses_no_legitimate_call(platform, approval_on):
    first, second = new_key(), new_key()
    platform.keys = [first]
    platform.start()
    container = approval_on(AUTH_JWKS_URL=platform.url)
    outcomes = []
    signing = first

    def calls_for(seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            outcomes.append(ask(container, mint_token(signing, "drc", sub=f"s{len(outcomes)}")))

    calls_for(0.5)
    platform.keys = [first, second]  # the platform publishes its next key ...
    calls_for(REFRESH * 3)
    signing = second  # ... then signs with it
    calls_for(0.5)
    platform.keys = [second]  # and retires the first
    calls_for(REFRESH * 3)
    assert outcomes and set(outcomes) == {"answered"}, set(outcomes)
    assert ask(container, mint_token(first, "drc", sub="late")) == "INVALID_TOKEN"  # the retired key
    assert registry_for(container).token_refusals.labels("unknown_key")._value.get() == 1


def test_a_set_with_a_private_key_stops_the_service_at_start(tmp_path, approval_on):
    leaked = tmp_path / "jwks.json"
    leaked.write_text(json.dumps({"keys": [new_key()]}))
    with pytest.raises(KeySetError, match="private key"):
        approval_on(AUTH_JWKS_FILE=str(leaked))
